package manifest

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	"sigs.k8s.io/yaml"
)

// Write prints FRRConfigurations, in the form frrgen writes them, as a multi-document YAML stream or a
// JSON list.
func Write(w io.Writer, configs []frrv1beta1.FRRConfiguration, format string) error {
	docs := make([]any, len(configs))
	for i := range configs {
		doc, err := cleanObject(&configs[i])
		if err != nil {
			return err
		}
		docs[i] = doc
	}
	if format == "json" {
		out, err := json.MarshalIndent(docs, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", out)
		return err
	}
	var b strings.Builder
	for i, doc := range docs {
		out, err := yaml.Marshal(doc)
		if err != nil {
			return err
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(out)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cleanObject is the object as JSON would write it, without the empty
// objects (status: {}, raw: {}, passwordSecret: {}) that carry no meaning.
func cleanObject(obj any) (any, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	return dropEmptyObjects(doc), nil
}

func dropEmptyObjects(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			child = dropEmptyObjects(child)
			if m, ok := child.(map[string]any); ok && len(m) == 0 {
				delete(t, k)
				continue
			}
			t[k] = child
		}
	case []any:
		for i := range t {
			t[i] = dropEmptyObjects(t[i])
		}
	}
	return v
}
