package alerts

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// UnmarshalYAML decodes a maintenance window strictly, so that a time
// that is not RFC 3339 is an error naming its line (the YAML decoder's own
// time error names none).
func (w *Window) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a maintenance window is a mapping (subject, start, end, reason)", n.Line)
	}
	var out Window
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: %s is not a single value", v.Line, k.Value)
		}
		switch k.Value {
		case "subject":
			out.Subject = v.Value
		case "reason":
			out.Reason = v.Value
		case "start", "end":
			t, err := time.Parse(time.RFC3339, v.Value)
			if err != nil {
				return fmt.Errorf("line %d: %q is not an RFC 3339 time (2026-12-01T22:00:00Z)", v.Line, v.Value)
			}
			if k.Value == "start" {
				out.Start = t
			} else {
				out.End = t
			}
		default:
			return fmt.Errorf("line %d: field %s not found in a maintenance window", k.Line, k.Value)
		}
	}
	*w = out
	return nil
}
