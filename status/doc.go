// Package status presents a server's namespaces, rooms and sockets: an
// HTML page for people and a JSON document for scripts and monitoring.
//
// It owns the presentation only. The data is a Snapshot that the server
// builds (dynamicio's Server.Status, read-only); Handler turns the snapshot
// of the requesting host into a response. dynamicio serves it at
// <path>/status when Config.PublicStatus is set.
//
// # JSON schema
//
// GET <path>/status?format=json (or with "Accept: application/json")
// answers a Snapshot:
//
//	{
//	  "host": "example.org",          // the requesting virtual host; "" for the main host
//	  "generatedAt": "2026-11-22T05:00:00.123Z",
//	  "namespaceCount": 2,
//	  "socketCount": 1,
//	  "namespaces": [                  // sorted by name
//	    {
//	      "name": "/chat",             // as clients name it
//	      "fullName": "//example.org/chat",
//	      "retires": true,             // created by setup; false: permanent
//	      "expiresInSeconds": null,    // for an empty namespace that retires: seconds left
//	      "socketCount": 1,
//	      "sockets": [
//	        {"id": "…", "remoteAddress": "127.0.0.1:50412",
//	         "transport": "websocket", "rooms": ["lobby"],
//	         "connectedAt": "2026-11-22T04:59:58Z"}
//	      ],
//	      "rooms": [{"name": "lobby", "sockets": ["…"]}]
//	    }
//	  ]
//	}
//
// Rooms leave out each socket's own room (named after its id). Every list
// is present, empty rather than null.
package status
