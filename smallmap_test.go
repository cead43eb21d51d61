package dynamicio

import (
	"fmt"
	"maps"
	"testing"
)

// TestSmallMap checks smallMap against a map while it grows from a list
// into a map and shrinks again.
func TestSmallMap(t *testing.T) {
	var m smallMap[int]
	model := map[string]int{}
	check := func(step string) {
		t.Helper()
		if m.len() != len(model) {
			t.Fatalf("%s: len %d, want %d", step, m.len(), len(model))
		}
		got := map[string]int{}
		m.all(func(k string, v int) { got[k] = v })
		if !maps.Equal(got, model) {
			t.Fatalf("%s: entries %v, want %v", step, got, model)
		}
		for i := range 3 * smallMapMax {
			k := fmt.Sprint("k", i)
			v, ok := m.get(k)
			if w, wok := model[k]; v != w || ok != wok {
				t.Fatalf("%s: get(%s) = %d, %v; want %d, %v", step, k, v, ok, w, wok)
			}
		}
	}
	check("empty")
	for i := range 3 * smallMapMax {
		k := fmt.Sprint("k", i)
		m.set(k, i)
		model[k] = i
		check("set " + k)
		m.set(k, -i) // replacing keeps one entry
		model[k] = -i
		check("replace " + k)
	}
	m.set("zero", 0) // a zero value is still present
	model["zero"] = 0
	check("zero value")
	for i := 0; i < 3*smallMapMax; i += 2 {
		k := fmt.Sprint("k", i)
		m.delete(k)
		delete(model, k)
		check("delete " + k)
	}
	m.delete("absent")
	check("delete absent")

	var small smallMap[string]
	for i := range smallMapMax {
		small.set(fmt.Sprint(i), "v")
	}
	small.delete("3")
	small.delete("0")
	if _, ok := small.get("3"); ok || small.len() != smallMapMax-2 || small.big != nil {
		t.Errorf("list form after deletes: %+v", small)
	}
	if v, ok := small.get(fmt.Sprint(smallMapMax - 1)); !ok || v != "v" {
		t.Error("the last entry was lost by a delete")
	}
}
