package loadbench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"k8s.io/client-go/rest"
)

// rawEvent is one FRRConfiguration watch event as it came off the wire, with
// the time it arrived: latencies end when the bytes arrive, not when the
// driver has finished decoding them. Line is the event's JSON
// ({"type":…,"object":…}); a relist sends Relisted instead.
type rawEvent struct {
	line     []byte
	listed   bool     // made up from a list: the state, not a write
	relisted []string // names of the objects a list found
	at       time.Time
}

// watchEvent is a decoded rawEvent.
type watchEvent struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

// configWatcher lists and then watches the FRRConfigurations of one
// namespace over plain HTTP, so that it sees every event's exact bytes (for
// CRDs, the JSON the apiserver stores). It resumes after a dropped
// connection, and relists when its resourceVersion is too old. It only
// splits the stream into events (the apiserver ends each one with a
// newline); decoding is left to the consumer, so that a slow decode never
// delays the arrival time of the next event.
type configWatcher struct {
	http *http.Client
	base string // the collection's URL
	rv   string
}

func newConfigWatcher(cfg *rest.Config, namespace string) (*configWatcher, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("HTTP client for the watch: %w", err)
	}
	return &configWatcher{
		http: hc,
		base: strings.TrimSuffix(cfg.Host, "/") + "/apis/frrk8s.metallb.io/v1beta1/namespaces/" + url.PathEscape(namespace) + "/frrconfigurations",
	}, nil
}

// run sends every event to out until ctx ends, and closes out. listed is
// closed after the first list.
func (w *configWatcher) run(ctx context.Context, out chan<- rawEvent, listed chan<- struct{}) error {
	defer close(out)
	for first := true; ctx.Err() == nil; {
		if w.rv == "" {
			// The apiserver answers 429 for a while after installing a CRD.
			if err := withRetry(ctx, func() error { return w.list(ctx, out) }); err != nil {
				if ctx.Err() != nil {
					break
				}
				return fmt.Errorf("listing FRRConfigurations: %w", err)
			}
			if first {
				first = false
				close(listed)
			}
		}
		if err := w.watch(ctx, out); err != nil && ctx.Err() == nil {
			select { // a dropped connection: resume from w.rv after a breath
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}

// list sends an ADDED event for every object, then the names it found, and
// sets w.rv.
func (w *configWatcher) list(ctx context.Context, out chan<- rawEvent) error {
	body, err := w.get(ctx, w.base)
	if err != nil {
		return err
	}
	defer body.Close()
	var list struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		Items []json.RawMessage `json:"items"`
	}
	if err := json.NewDecoder(body).Decode(&list); err != nil {
		return err
	}
	at := time.Now()
	names := make([]string, 0, len(list.Items))
	for _, item := range list.Items {
		var meta objectMeta
		if err := json.Unmarshal(item, &meta); err != nil {
			return err
		}
		names = append(names, meta.Metadata.Name)
		line, err := json.Marshal(watchEvent{Type: "ADDED", Object: item})
		if err != nil {
			return err
		}
		out <- rawEvent{line: line, listed: true, at: at}
	}
	out <- rawEvent{relisted: names, listed: true, at: at}
	w.rv = list.Metadata.ResourceVersion
	return nil
}

// watch streams events from w.rv until the connection ends, then sets w.rv
// to the resourceVersion of the last event.
func (w *configWatcher) watch(ctx context.Context, out chan<- rawEvent) error {
	q := url.Values{"watch": {"true"}, "resourceVersion": {w.rv}, "allowWatchBookmarks": {"true"}, "timeoutSeconds": {"3600"}}
	body, err := w.get(ctx, w.base+"?"+q.Encode())
	if err != nil {
		return err
	}
	defer body.Close()
	var last []byte
	defer func() { w.resumeAfter(last) }()
	r := bufio.NewReaderSize(body, 1<<20)
	for {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			if bytes.HasPrefix(line, []byte(`{"type":"ERROR"`)) {
				w.rv = "" // most likely 410 Gone (compacted): relist
				last = nil
				return fmt.Errorf("watch error: %s", line)
			}
			last = line
			out <- rawEvent{line: line, at: time.Now()}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// resumeAfter sets w.rv from the last event seen (nil: keep w.rv); an event
// that cannot be read means relisting.
func (w *configWatcher) resumeAfter(last []byte) {
	if last == nil {
		return
	}
	var ev watchEvent
	var meta objectMeta
	if json.Unmarshal(last, &ev) != nil || json.Unmarshal(ev.Object, &meta) != nil || meta.Metadata.ResourceVersion == "" {
		w.rv = ""
		return
	}
	w.rv = meta.Metadata.ResourceVersion
}

type objectMeta struct {
	Metadata struct {
		Name            string `json:"name"`
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
}

func (w *configWatcher) get(ctx context.Context, u string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := w.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode == http.StatusGone {
			w.rv = ""
		}
		return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, msg)
	}
	return resp.Body, nil
}
