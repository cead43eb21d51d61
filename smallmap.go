package dynamicio

// smallMap maps strings to values: a short list searched in order while it
// holds few entries, a map beyond that. Per-connection tables (a socket's
// event handlers, a connection's namespaces) almost always hold a handful
// of entries, where a Go map costs an idle connection a few hundred bytes
// more than the list. It is not safe for concurrent use.
type smallMap[V any] struct {
	small []smallEntry[V]
	big   map[string]V
}

type smallEntry[V any] struct {
	key string
	val V
}

// smallMapMax is the most entries the list holds before the map takes over.
const smallMapMax = 8

func (m *smallMap[V]) get(key string) (V, bool) {
	if m.big != nil {
		v, ok := m.big[key]
		return v, ok
	}
	for i := range m.small {
		if m.small[i].key == key {
			return m.small[i].val, true
		}
	}
	var zero V
	return zero, false
}

func (m *smallMap[V]) set(key string, v V) {
	if m.big != nil {
		m.big[key] = v
		return
	}
	for i := range m.small {
		if m.small[i].key == key {
			m.small[i].val = v
			return
		}
	}
	if len(m.small) < smallMapMax {
		m.small = append(m.small, smallEntry[V]{key, v})
		return
	}
	m.big = make(map[string]V, 2*smallMapMax)
	for _, e := range m.small {
		m.big[e.key] = e.val
	}
	m.big[key] = v
	m.small = nil
}

func (m *smallMap[V]) delete(key string) {
	if m.big != nil {
		delete(m.big, key)
		return
	}
	for i := range m.small {
		if m.small[i].key == key {
			last := len(m.small) - 1
			m.small[i] = m.small[last]
			m.small[last] = smallEntry[V]{}
			m.small = m.small[:last]
			return
		}
	}
}

func (m *smallMap[V]) len() int {
	if m.big != nil {
		return len(m.big)
	}
	return len(m.small)
}

// all calls fn for every entry, in no particular order.
func (m *smallMap[V]) all(fn func(key string, v V)) {
	if m.big != nil {
		for k, v := range m.big {
			fn(k, v)
		}
		return
	}
	for _, e := range m.small {
		fn(e.key, e.val)
	}
}
