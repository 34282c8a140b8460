package device

import (
	"sort"
	"sync"
)

// Access is the class-specific part of a document. Only the sections the
// device's MIBs give are present.
type Access struct {
	PON   *PON   `json:"pon,omitempty"`
	Cable *Cable `json:"cable,omitempty"`
	DSL   *DSL   `json:"dsl,omitempty"`
	TV    *TV    `json:"tv,omitempty"`
}

// Extractor builds the access section from the walked objects and the
// document built so far; it returns nil when the device gives nothing.
// Extractors must not panic on any input.
type Extractor func(o *Objects, d *Document) *Access

var (
	extractorsMu sync.RWMutex
	extractors   = map[string]Extractor{}
)

// RegisterExtractor makes an extractor available to profiles by name. It
// replaces an extractor of the same name.
func RegisterExtractor(name string, ex Extractor) {
	extractorsMu.Lock()
	defer extractorsMu.Unlock()
	extractors[name] = ex
}

func lookupExtractor(name string) (Extractor, bool) {
	extractorsMu.RLock()
	defer extractorsMu.RUnlock()
	ex, ok := extractors[name]
	return ex, ok
}

// ExtractorNames lists the registered extractors, sorted.
func ExtractorNames() []string {
	extractorsMu.RLock()
	defer extractorsMu.RUnlock()
	out := make([]string, 0, len(extractors))
	for n := range extractors {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ifaceName returns the name of interface index n, or "".
func ifaceName(d *Document, n int) string {
	if it := interfaceByIndex(d, n); it != nil {
		return it.Name
	}
	return ""
}

// ifaceOper returns the oper status of interface index n, or "".
func ifaceOper(d *Document, n int) string {
	if it := interfaceByIndex(d, n); it != nil {
		return it.OperStatus
	}
	return ""
}
