package config

import (
	"strings"
	"testing"
)

func TestLoadConnectionCaps(t *testing.T) {
	tests := []struct {
		name                  string
		env                   map[string]string
		wantStreams, wantIdle int
	}{
		{"defaults", nil, 5, 32},
		{"set", map[string]string{"FEED_MAX_STREAMS_PER_STAFF": "2", "MAX_IDLE_CONNS_PER_CLIENT": "64"}, 2, 64},
		{"off", map[string]string{"FEED_MAX_STREAMS_PER_STAFF": "0", "MAX_IDLE_CONNS_PER_CLIENT": "0"}, 0, 0},
	}
	for _, tt := range tests {
		c, err := Load(env(tt.env))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if c.FeedMaxStreamsPerStaff != tt.wantStreams || c.MaxIdleConnsPerClient != tt.wantIdle {
			t.Errorf("%s: got FEED_MAX_STREAMS_PER_STAFF %d, MAX_IDLE_CONNS_PER_CLIENT %d; want %d, %d",
				tt.name, c.FeedMaxStreamsPerStaff, c.MaxIdleConnsPerClient, tt.wantStreams, tt.wantIdle)
		}
	}
	for _, name := range []string{"FEED_MAX_STREAMS_PER_STAFF", "MAX_IDLE_CONNS_PER_CLIENT"} {
		for _, bad := range []string{"-1", "many"} {
			if _, err := Load(env(map[string]string{name: bad})); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%s: got %v, want an error naming it", name, bad, err)
			}
		}
	}
}
