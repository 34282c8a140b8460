// Package yamlconf decodes ngic's YAML configuration files strictly (an
// unknown key is an error) and lets validation name the line of the field it
// rejects.
package yamlconf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Doc is a decoded file, kept for line look-ups.
type Doc struct {
	name string
	root *yaml.Node
}

// Load reads and strictly decodes the YAML file at path into v.
func Load(path string, v any) (*Doc, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Decode(path, data, v)
}

// Decode strictly decodes data (from a file called name) into v. Unknown
// keys, wrong types and more than one document are errors naming the line.
func Decode(name string, data []byte, v any) (*Doc, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("config %s: empty file", name)
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		var root yaml.Node
		if yaml.Unmarshal(data, &root) == nil {
			msg = withPaths(msg, linePaths(&root))
		}
		return nil, fmt.Errorf("config %s: %s", name, msg)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("config %s: line %d: a second YAML document; only one is read", name, extra.Line)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	return &Doc{name: name, root: &root}, nil
}

// Validator is a configuration that fills its defaults and checks itself,
// naming the field and line (from doc) of what is wrong.
type Validator interface {
	Validate(doc *Doc) error
}

// DecodeValid decodes data strictly into v, then validates it.
func DecodeValid(name string, data []byte, v Validator) error {
	doc, err := Decode(name, data, v)
	if err != nil {
		return err
	}
	return v.Validate(doc)
}

// Line returns the line of the value at path ("readers[1].device"), or of
// the nearest ancestor present in the file, or 0.
func (d *Doc) Line(path string) int {
	if d == nil || d.root == nil {
		return 0
	}
	n := d.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, step := range splitPath(path) {
		next := child(n, step)
		if next == nil {
			return line
		}
		n = next
		line = n.Line
	}
	return line
}

// Errorf returns an error naming the file, the field path and its line.
func (d *Doc) Errorf(path, format string, args ...any) error {
	name := "config"
	if d != nil {
		name = d.name
	}
	msg := fmt.Sprintf(format, args...)
	if l := d.Line(path); l > 0 {
		return fmt.Errorf("config %s: line %d: %s: %s", name, l, path, msg)
	}
	return fmt.Errorf("config %s: %s: %s", name, path, msg)
}

func splitPath(p string) []string {
	var steps []string
	for _, part := range strings.Split(p, ".") {
		for part != "" {
			i := strings.IndexByte(part, '[')
			if i < 0 {
				steps = append(steps, part)
				break
			}
			if i > 0 {
				steps = append(steps, part[:i])
			}
			j := strings.IndexByte(part[i:], ']')
			if j < 0 {
				steps = append(steps, part[i:])
				break
			}
			steps = append(steps, part[i:i+j+1])
			part = part[i+j+1:]
		}
	}
	return steps
}

func child(n *yaml.Node, step string) *yaml.Node {
	if strings.HasPrefix(step, "[") {
		i, err := strconv.Atoi(strings.Trim(step, "[]"))
		if err != nil || n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
			return nil
		}
		return n.Content[i]
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == step {
			return n.Content[i+1]
		}
	}
	return nil
}

// Secret returns a secret from the file at path (trailing newline trimmed),
// or else from the environment variable env; "" when neither is set. The
// value is never part of an error.
func Secret(path, env string) (string, error) {
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("config: secret file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if env != "" {
		return os.Getenv(env), nil
	}
	return "", nil
}

// lineRef is how the decoder starts each error: "line N: " at the start of
// the message or of one of its lines ("unmarshal errors:\n  line 4: ...").
// go.yaml.in/yaml/v3 gives positions only in its error text (TypeError
// holds strings), so they are read from there; TestDecoderErrorText pins
// the format. Text elsewhere in a line (a quoted value) is left alone.
var lineRef = regexp.MustCompile(`(?m)^(\s*)line (\d+): `)

// withPaths adds the field path to each "line N: " of a decoder message.
func withPaths(msg string, paths map[int]string) string {
	return lineRef.ReplaceAllStringFunc(msg, func(m string) string {
		n, _ := strconv.Atoi(lineRef.FindStringSubmatch(m)[2])
		if p, ok := paths[n]; ok {
			return m + p + ": "
		}
		return m
	})
}

// linePaths maps each line holding a key to that key's path
// ("sensors[0].debounce").
func linePaths(root *yaml.Node) map[int]string {
	paths := map[int]string{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				paths[k.Line] = p
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				if _, ok := paths[c.Line]; !ok {
					paths[c.Line] = p
				}
				walk(c, p)
			}
		}
	}
	walk(root, "")
	return paths
}
