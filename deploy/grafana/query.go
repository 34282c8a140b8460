package grafana

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
)

// InfluxQuery is a raw InfluxQL target of Grafana's core InfluxDB data
// source, which the foundation SDK does not model.
type InfluxQuery struct {
	// RefID names the query within its panel.
	RefID string `json:"refId"`
	// Query is the InfluxQL text, sent as written when RawQuery is set
	// (always, here: the query editor's form is not used).
	Query    string `json:"query"`
	RawQuery bool   `json:"rawQuery"`
	// ResultFormat is "time_series" or "table".
	ResultFormat string `json:"resultFormat"`
	// Alias is the series name pattern ($tag_device, $col).
	Alias string `json:"alias,omitempty"`
}

// ImplementsDataqueryVariant marks InfluxQuery a data query.
func (InfluxQuery) ImplementsDataqueryVariant() {}

// DataqueryType is the data source plugin's ID.
func (InfluxQuery) DataqueryType() string { return dataSourceType }

// Validate accepts every query: influxd judges the text.
func (InfluxQuery) Validate() error { return nil }

// Equals reports whether other is the same query.
func (q InfluxQuery) Equals(other variants.Dataquery) bool {
	o, ok := other.(InfluxQuery)
	return ok && o == q
}

// influxQueryBuilder hands an InfluxQuery to the SDK's panel builders.
type influxQueryBuilder struct{ q InfluxQuery }

var _ cog.Builder[variants.Dataquery] = influxQueryBuilder{}

// Build returns the query.
func (b influxQueryBuilder) Build() (variants.Dataquery, error) { return b.q, nil }
