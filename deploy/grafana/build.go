package grafana

import (
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// The provisioned data source the dashboards query.
const (
	dataSourceType = "influxdb"
	// DataSourceUID is the provisioned InfluxDB data source's UID.
	DataSourceUID = "ngic-influxdb"
)

func dataSource() common.DataSourceRef {
	typ, uid := dataSourceType, DataSourceUID
	return common.DataSourceRef{Type: &typ, Uid: &uid}
}

// builtPanel hands a finished panel to the dashboard builder, which places
// it on the grid.
type builtPanel struct{ p dashboard.Panel }

var _ cog.Builder[dashboard.Panel] = builtPanel{}

// Build returns the panel.
func (b builtPanel) Build() (dashboard.Panel, error) { return b.p, nil }

// kindPanel starts a panel of kind k with the options particular to it,
// and gives its width and height on the 24-column grid.
func kindPanel(k Kind) (cog.Builder[dashboard.Panel], uint32, uint32, error) {
	switch k {
	case TimeSeries:
		return timeseries.NewPanelBuilder().
			Legend(common.NewVizLegendOptionsBuilder().ShowLegend(true).
				DisplayMode(common.LegendDisplayModeTable).Placement(common.LegendPlacementBottom)).
			FillOpacity(10).SpanNulls(common.BoolOrFloat64{Bool: ptr(true)}), 12, 8, nil
	case Stat:
		return stat.NewPanelBuilder().
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
			GraphMode(common.BigValueGraphModeNone), 6, 4, nil
	case Table:
		return table.NewPanelBuilder(), 12, 8, nil
	}
	return nil, 0, 0, fmt.Errorf("grafana: unknown panel kind %q", k)
}

func ptr[T any](v T) *T { return &v }

// panel builds p with the SDK.
func panel(id uint32, p Panel) (dashboard.Panel, error) {
	b, w, h, err := kindPanel(p.Kind)
	if err != nil {
		return dashboard.Panel{}, err
	}
	out, err := b.Build()
	if err != nil {
		return dashboard.Panel{}, fmt.Errorf("grafana: panel %q: %w", p.Title, err)
	}
	out.Id, out.Title, out.Description = ptr(id), ptr(p.Title), ptr(p.Description)
	out.Datasource = ptr(dataSource())
	out.GridPos = &dashboard.GridPos{W: w, H: h}
	format := "time_series"
	if p.Kind == Table {
		format = "table"
	}
	for _, q := range p.Queries {
		out.Targets = append(out.Targets, InfluxQuery{RefID: q.RefID, Query: q.InfluxQL, RawQuery: true,
			ResultFormat: format, Alias: q.Alias})
	}
	if p.Unit != "" {
		if out.FieldConfig == nil {
			out.FieldConfig = dashboard.NewFieldConfigSource()
		}
		out.FieldConfig.Defaults.Unit = ptr(p.Unit)
	}
	return out, nil
}

// variable builds a query variable over the values of one tag.
func variable(v Variable) cog.Builder[dashboard.VariableModel] {
	q := fmt.Sprintf(`SHOW TAG VALUES FROM %s WITH KEY = %s`, ident(v.Measurement), ident(v.Tag))
	return dashboard.NewQueryVariableBuilder(v.Name).Label(v.Label).
		Datasource(dataSource()).Query(dashboard.StringOrMap{String: &q}).Definition(q).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).IncludeAll(true).AllValue(".*").
		Current(dashboard.VariableOption{Text: dashboard.StringOrArrayOfString{String: ptr("All")},
			Value: dashboard.StringOrArrayOfString{String: ptr("$__all")}})
}

// Build builds d with the SDK.
func Build(d Dashboard) (dashboard.Dashboard, error) {
	b := dashboard.NewDashboardBuilder(d.Title).Uid(d.UID).Description(d.Description).
		Tags([]string{"ngic", "generated"}).Refresh("1m").Time("now-6h", "now").
		Timezone(common.TimeZoneBrowser).Tooltip(dashboard.DashboardCursorSyncCrosshair).Readonly()
	for _, v := range d.Variables {
		b.WithVariable(variable(v))
	}
	seen := map[string]bool{}
	for i, p := range d.Panels {
		if seen[p.Title] {
			return dashboard.Dashboard{}, fmt.Errorf("grafana: %s: two panels titled %q", d.UID, p.Title)
		}
		seen[p.Title] = true
		built, err := panel(uint32(i+1), p)
		if err != nil {
			return dashboard.Dashboard{}, err
		}
		b.WithPanel(builtPanel{built})
	}
	out, err := b.Build()
	if err != nil {
		return dashboard.Dashboard{}, fmt.Errorf("grafana: %s: %w", d.UID, err)
	}
	return out, nil
}

// JSON is d as the JSON file Grafana provisions.
func JSON(d Dashboard) ([]byte, error) {
	built, err := Build(d)
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(built, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("grafana: %s: %w", d.UID, err)
	}
	return append(b, '\n'), nil
}
