package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// recipe is what a Containerfile of the supported subset says: a scratch
// image with copied files, a user, an entrypoint and labels.
type recipe struct {
	Copies     []copyStep
	User       string
	Entrypoint []string
	Labels     map[string]string
}

type copyStep struct{ Source, Destination string }

// readContainerfile parses path, substituting ${NAME} with buildArgs or the
// ARG defaults. Every instruction outside the subset this image uses is an
// error: the image built here must be the one an engine builds.
func readContainerfile(path string, buildArgs map[string]string) (*recipe, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := &recipe{Labels: map[string]string{}}
	args := map[string]string{}
	sawFrom := false
	for i, line := range logicalLines(string(text)) {
		keyword, rest, _ := strings.Cut(line, " ")
		keyword = strings.ToUpper(keyword)
		rest = strings.TrimSpace(rest)
		if !sawFrom && keyword != "FROM" {
			return nil, fmt.Errorf("%s: instruction %d (%s) comes before FROM", path, i+1, keyword)
		}
		var err error
		switch keyword {
		case "FROM":
			if sawFrom || rest != "scratch" {
				return nil, fmt.Errorf("%s: only one FROM scratch is supported, not FROM %q", path, rest)
			}
			sawFrom = true
		case "ARG":
			name, value, _ := strings.Cut(rest, "=")
			if v, ok := buildArgs[name]; ok {
				value = v
			}
			args[name] = value
		case "COPY":
			fields := strings.Fields(expand(rest, args))
			if len(fields) != 2 || strings.HasPrefix(fields[0], "-") {
				return nil, fmt.Errorf("%s: COPY takes exactly SOURCE DESTINATION, not %q", path, rest)
			}
			r.Copies = append(r.Copies, copyStep{Source: fields[0], Destination: fields[1]})
		case "USER":
			r.User = expand(rest, args)
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(rest), &r.Entrypoint); err != nil {
				return nil, fmt.Errorf("%s: ENTRYPOINT must be a JSON array (exec form): %q: %w", path, rest, err)
			}
		case "LABEL":
			err = parseLabels(expand(rest, args), r.Labels)
		default:
			return nil, fmt.Errorf("%s: instruction %s is not supported by hack/image", path, keyword)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, keyword, err)
		}
	}
	for name := range buildArgs {
		if _, ok := args[name]; !ok {
			return nil, fmt.Errorf("%s: build argument %s is not declared with ARG", path, name)
		}
	}
	return r, nil
}

// logicalLines joins backslash-continued lines and drops comments and blank
// lines.
func logicalLines(text string) []string {
	var lines []string
	var current strings.Builder
	for _, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if current.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			current.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		current.WriteString(line)
		lines = append(lines, strings.TrimSpace(current.String()))
		current.Reset()
	}
	if current.Len() > 0 {
		lines = append(lines, strings.TrimSpace(current.String()))
	}
	return lines
}

var argReference = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

func expand(s string, args map[string]string) string {
	return argReference.ReplaceAllStringFunc(s, func(ref string) string {
		return args[argReference.FindStringSubmatch(ref)[1]]
	})
}

var labelPair = regexp.MustCompile(`^([A-Za-z0-9._/-]+)="([^"\\]*)"\s*`)

// parseLabels reads key="value" pairs (values double-quoted, without
// escapes, as this Containerfile writes them).
func parseLabels(s string, into map[string]string) error {
	for s = strings.TrimSpace(s); s != ""; {
		m := labelPair.FindStringSubmatch(s)
		if m == nil {
			return fmt.Errorf(`expected key="value", got %q`, s)
		}
		into[m[1]] = m[2]
		s = s[len(m[0]):]
	}
	return nil
}
