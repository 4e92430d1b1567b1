package main

import "testing"

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		name string
		addr string
		want bool
	}{
		{"IPv4 loopback", "127.0.0.1:6060", true},
		{"IPv6 loopback", "[::1]:6060", true},
		{"localhost", "localhost:6060", true},
		{"all interfaces", ":6060", false},
		{"any address", "0.0.0.0:6060", false},
		{"public address", "10.1.2.3:6060", false},
		{"no port", "127.0.0.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isLoopback(tt.addr); got != tt.want {
				t.Errorf("isLoopback(%q) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
}
