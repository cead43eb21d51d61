// Package nginx holds the scale-out example: nginx.conf puts two dynamicio
// nodes, joined by adapter/redisadapter, behind nginx with sticky sessions
// for long-polling, and its test runs that very file with real nginx,
// redis-server and two Go servers. It has no code of its own.
package nginx
