package status

import (
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

// view is a Snapshot prepared for the page: counts formatted, long lists
// cut to maxListed.
type view struct {
	Host       string // "" for the main host
	Generated  string
	Namespaces string // formatted counts
	Sockets    string
	List       []nsView
	Refresh    int // seconds
}

type nsView struct {
	Name, FullName string
	Sockets        string // formatted count
	Rooms          string
	Expiry         string
	Empty          bool
	SocketList     []Socket
	MoreSockets    string // "" when all are listed
	RoomList       []roomView
	MoreRooms      string
}

type roomView struct {
	Name    string
	Count   string
	Members []string
	More    string
}

func newView(s Snapshot) view {
	v := view{
		Host:       s.Host,
		Generated:  s.GeneratedAt.UTC().Format("2006-01-02 15:04:05 UTC"),
		Namespaces: thousands(s.NamespaceCount),
		Sockets:    thousands(s.SocketCount),
		List:       make([]nsView, len(s.Namespaces)),
		Refresh:    int(Refresh / time.Second),
	}
	for i, ns := range s.Namespaces {
		nv := nsView{
			Name:     ns.Name,
			FullName: ns.FullName,
			Sockets:  thousands(ns.SocketCount),
			Rooms:    thousands(len(ns.Rooms)),
			Empty:    ns.SocketCount == 0,
		}
		switch {
		case !ns.Retires:
			nv.Expiry = "permanent"
		case ns.ExpiresIn != nil:
			nv.Expiry = "retires in " + seconds(time.Duration(*ns.ExpiresIn))
		default:
			nv.Expiry = "retires when idle"
		}
		nv.SocketList, nv.MoreSockets = cut(ns.Sockets, ns.SocketCount)
		for _, r := range cutRooms(ns.Rooms) {
			members, more := cut(r.Sockets, len(r.Sockets))
			nv.RoomList = append(nv.RoomList, roomView{Name: r.Name, Count: thousands(len(r.Sockets)), Members: members, More: more})
		}
		if len(ns.Rooms) > maxListed {
			nv.MoreRooms = thousands(len(ns.Rooms) - maxListed)
		}
		v.List[i] = nv
	}
	return v
}

// cut returns the first maxListed items and how many more there are
// (formatted, "" for none), of total.
func cut[T any](items []T, total int) ([]T, string) {
	if len(items) > maxListed {
		items = items[:maxListed]
	}
	if more := total - len(items); more > 0 {
		return items, thousands(more)
	}
	return items, ""
}

func cutRooms(rooms []Room) []Room {
	if len(rooms) > maxListed {
		return rooms[:maxListed]
	}
	return rooms
}

// thousands formats n with comma separators: 12,345.
func thousands(n int) string {
	s := strconv.Itoa(n)
	start := 0
	if n < 0 {
		start = 1
	}
	for i := len(s) - 3; i > start; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// seconds formats a countdown in whole seconds, rounded up, so "0 s"
// never shows while time is left.
func seconds(d time.Duration) string {
	return thousands(int(math.Ceil(d.Seconds()))) + " s"
}

// pageScript updates the page in place every Refresh (keeping open
// sections open and the filter applied) and filters namespaces by name. It
// is the only script the page runs; the CSP allows it by hash.
const pageScriptText = `
(function () {
  var filter = document.getElementById("filter");
  var state = document.getElementById("state");
  function applyFilter() {
    var q = filter.value.toLowerCase();
    document.querySelectorAll("details.ns").forEach(function (d) {
      d.hidden = q !== "" && d.dataset.name.toLowerCase().indexOf(q) < 0;
    });
  }
  filter.addEventListener("input", applyFilter);
  function update() {
    fetch(location.href, { headers: { Accept: "text/html" }, cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        var next = doc.getElementById("content");
        if (!next) throw new Error("no content");
        document.querySelectorAll("details.ns[open]").forEach(function (d) {
          var same = doc.getElementById(d.id);
          if (same) same.open = true;
        });
        document.getElementById("content").replaceWith(document.importNode(next, true));
        applyFilter();
        state.textContent = "live";
        state.className = "live";
      })
      .catch(function (err) {
        state.textContent = "not updated: " + err.message;
        state.className = "stale";
      })
      .finally(function () { setTimeout(update, REFRESH_MS); });
  }
  setTimeout(update, REFRESH_MS);
})();
`

var pageScript = strings.ReplaceAll(pageScriptText, "REFRESH_MS", strconv.Itoa(int(Refresh/time.Millisecond)))

// The script comes last, when the elements it looks up exist.
var page = template.Must(template.New("status").Parse(pageHead + pageBody + "<script>" + pageScript + "</script>\n</body>\n</html>\n"))

const pageHead = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<noscript><meta http-equiv="refresh" content="{{.Refresh}}"></noscript>
<title>dynamicio status — {{if .Host}}{{.Host}}{{else}}main host{{end}}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; margin: 0 0 .3em; }
.summary { color: #555; margin-bottom: 1em; }
#state.live { color: #2a7; } #state.stale { color: #c33; }
#filter { font: inherit; padding: .2em .4em; width: 20em; margin-right: 1em; }
details.ns { border-top: 1px solid #ddd; padding: .3em 0; }
details.ns > summary { cursor: pointer; display: grid; grid-template-columns: 1em minmax(12em, 2fr) 8em 7em 12em; gap: .6em; }
details.ns > summary::before { content: "▸"; color: #888; }
details.ns[open] > summary::before { content: "▾"; }
details.ns.empty > summary { color: #777; }
.name, code { font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: .5em 0 .5em 1.5em; }
th, td { text-align: left; padding: .1em .8em .1em 0; vertical-align: top; }
th { font-weight: 600; color: #555; }
.more { color: #777; margin-left: 1.5em; }
</style>
</head>
<body>
<h1>dynamicio status — {{if .Host}}<span class="name">{{.Host}}</span>{{else}}main host{{end}}</h1>
<p><input id="filter" type="search" placeholder="filter namespaces" aria-label="filter namespaces"> <span id="state">updates every {{.Refresh}} s</span></p>
`

const pageBody = `
<main id="content">
<p class="summary"><span id="namespace-count">{{.Namespaces}}</span> namespaces · <span id="socket-count">{{.Sockets}}</span> sockets · generated {{.Generated}}</p>
{{range .List}}
<details class="ns{{if .Empty}} empty{{end}}" id="ns:{{.FullName}}" data-name="{{.FullName}}">
<summary><span class="name">{{.Name}}</span><span>{{.Sockets}} sockets</span><span>{{.Rooms}} rooms</span><span class="expiry">{{.Expiry}}</span></summary>
{{if .SocketList}}
<table class="sockets">
<tr><th>socket</th><th>remote address</th><th>transport</th><th>rooms</th><th>connected</th></tr>
{{range .SocketList}}<tr><td><code>{{.ID}}</code></td><td>{{.RemoteAddress}}</td><td>{{.Transport}}</td><td>{{range $i, $r := .Rooms}}{{if $i}}, {{end}}<code>{{$r}}</code>{{end}}</td><td>{{.ConnectedAt.UTC.Format "15:04:05"}}</td></tr>
{{end}}</table>
{{if .MoreSockets}}<p class="more">and {{.MoreSockets}} more sockets (the JSON form lists them all)</p>{{end}}
{{end}}
{{if .RoomList}}
<table class="rooms">
<tr><th>room</th><th>sockets</th><th>members</th></tr>
{{range .RoomList}}<tr><td><code>{{.Name}}</code></td><td>{{.Count}}</td><td>{{range $i, $m := .Members}}{{if $i}}, {{end}}<code>{{$m}}</code>{{end}}{{if .More}} and {{.More}} more{{end}}</td></tr>
{{end}}</table>
{{if .MoreRooms}}<p class="more">and {{.MoreRooms}} more rooms (the JSON form lists them all)</p>{{end}}
{{end}}
</details>
{{else}}
<p>No namespaces.</p>
{{end}}
</main>
`
