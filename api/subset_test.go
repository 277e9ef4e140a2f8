package api_test

import (
	"fmt"
	"reflect"
	"sort"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// subsetDiff reports every place where want is not contained in got: each
// map key of want must be in got with a contained value, lists must have the
// same length and contained elements, and scalars must be equal. Keys only
// in got (server defaults, metadata the server adds) are allowed. Numbers
// compare by value, so int64(179) equals float64(179).
func subsetDiff(want, got any) []string {
	var diffs []string
	walkSubset("", want, got, &diffs)
	return diffs
}

func walkSubset(path string, want, got any, diffs *[]string) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*diffs = append(*diffs, fmt.Sprintf("%s: want an object, got %T %v", orRoot(path), got, got))
			return
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			gv, ok := g[k]
			if !ok {
				*diffs = append(*diffs, fmt.Sprintf("%s.%s: missing, want %v", path, k, w[k]))
				continue
			}
			walkSubset(path+"."+k, w[k], gv, diffs)
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			*diffs = append(*diffs, fmt.Sprintf("%s: want a list, got %T %v", orRoot(path), got, got))
			return
		}
		if len(g) != len(w) {
			*diffs = append(*diffs, fmt.Sprintf("%s: want %d items, got %d: %v", orRoot(path), len(w), len(g), g))
			return
		}
		for i := range w {
			walkSubset(fmt.Sprintf("%s[%d]", path, i), w[i], g[i], diffs)
		}
	default:
		if wn, ok := number(want); ok {
			if gn, ok := number(got); ok && wn == gn {
				return
			}
		} else if reflect.DeepEqual(want, got) {
			return
		}
		*diffs = append(*diffs, fmt.Sprintf("%s: want %T %v, got %T %v", orRoot(path), want, want, got, got))
	}
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func orRoot(path string) string {
	if path == "" {
		return "."
	}
	return path
}

var _ = DescribeTable("subsetDiff, the read-back comparison",
	func(want, got any, wantDiffs int) {
		Expect(subsetDiff(want, got)).To(HaveLen(wantDiffs))
	},
	Entry("equal objects", map[string]any{"a": int64(1), "b": []any{"x"}}, map[string]any{"a": int64(1), "b": []any{"x"}}, 0),
	Entry("extra server field is allowed", map[string]any{"a": int64(1)}, map[string]any{"a": int64(1), "peerPort": int64(179)}, 0),
	Entry("number types compare by value", map[string]any{"a": int64(179)}, map[string]any{"a": float64(179)}, 0),
	Entry("missing field", map[string]any{"a": int64(1), "b": "x"}, map[string]any{"a": int64(1)}, 1),
	Entry("changed scalar", map[string]any{"a": "65535:65282"}, map[string]any{"a": "65535:65283"}, 1),
	Entry("string is not a number", map[string]any{"a": "1"}, map[string]any{"a": int64(1)}, 1),
	Entry("shorter list", map[string]any{"l": []any{"a", "b"}}, map[string]any{"l": []any{"a"}}, 1),
	Entry("longer list", map[string]any{"l": []any{"a"}}, map[string]any{"l": []any{"a", "b"}}, 1),
	Entry("changed nested item", map[string]any{"l": []any{map[string]any{"k": "v"}}}, map[string]any{"l": []any{map[string]any{"k": "w"}}}, 1),
	Entry("object replaced by scalar", map[string]any{"o": map[string]any{"k": "v"}}, map[string]any{"o": "v"}, 1),
)
