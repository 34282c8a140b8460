package grafana

import (
	"fmt"
	"strings"

	"github.com/ngic/ngic/telemetry"
)

// Kind is a panel's visualisation.
type Kind string

// The visualisations the dashboards use.
const (
	TimeSeries Kind = "timeseries"
	Stat       Kind = "stat"
	Table      Kind = "table"
)

// Query is one InfluxQL query of a panel, with Grafana's macros: $timeFilter
// (the dashboard's time range), $__interval (the width of one point) and
// the dashboard's variables as /^$name$/ regular expressions.
type Query struct {
	// RefID names the query within its panel ("A", "B"...).
	RefID string
	// InfluxQL is the query text.
	InfluxQL string
	// Alias is Grafana's series name pattern ($tag_device...), or empty.
	Alias string
}

// Panel is one panel of a dashboard.
type Panel struct {
	// Title is unique within its dashboard; tests name panels by it.
	Title string
	// Description tells the operator what the panel shows.
	Description string
	// Kind is the visualisation.
	Kind Kind
	// Unit is a Grafana unit ("bps", "percentunit", "s", "short"...).
	Unit string
	// Measurement is the telemetry measurement the panel reads.
	Measurement string
	// Queries are the panel's targets.
	Queries []Query
}

// Variable is a dashboard variable whose values are the values of one tag
// of one measurement; "All" matches every value.
type Variable struct {
	// Name is how queries refer to it ($name); Label what the user sees.
	Name, Label string
	// Measurement and Tag give its values.
	Measurement, Tag string
}

// Dashboard is one generated dashboard.
type Dashboard struct {
	// UID is Grafana's stable identifier; File the JSON's file name.
	UID, Title, File, Description string
	// Variables filter every panel (All by default).
	Variables []Variable
	// Panels are laid out in order, two to a row (stats four).
	Panels []Panel
}

// ident quotes an InfluxQL identifier.
func ident(s string) string { return `"` + s + `"` }

// match is the InfluxQL condition that tag matches variable v.
func match(tag, v string) string { return fmt.Sprintf("%s =~ /^$%s$/", ident(tag), v) }

// where is "WHERE $timeFilter AND" the conditions given.
func where(conds ...string) string {
	return "WHERE " + strings.Join(append([]string{"$timeFilter"}, conds...), " AND ")
}

// groupBy is "GROUP BY" the given tags, quoted.
func groupBy(tags ...string) string {
	q := make([]string, len(tags))
	for i, t := range tags {
		q[i] = ident(t)
	}
	return "GROUP BY " + strings.Join(q, ", ")
}

// overTime is "GROUP BY time($__interval)" and the given tags, no fill.
func overTime(tags ...string) string {
	s := "GROUP BY time($__interval)"
	for _, t := range tags {
		s += ", " + ident(t)
	}
	return s + " fill(none)"
}

// agg is fn("field") AS "as".
func agg(fn, field, as string) string {
	return fmt.Sprintf("%s(%s) AS %s", fn, ident(field), ident(as))
}

// q1 is a panel with one query A.
func q1(influxQL, alias string) []Query {
	return []Query{{RefID: "A", InfluxQL: influxQL, Alias: alias}}
}

// Dashboards are the three generated dashboards: the access network (the
// devices the controller polls), convergence (coverage snapshots and TV)
// and the edge (gateways, their events and passages).
func Dashboards() []Dashboard {
	return []Dashboard{accessNetwork(), convergence(), edge()}
}

func accessNetwork() Dashboard {
	const site = "site"
	bySite := match(telemetry.TagSite, site)
	return Dashboard{
		UID: "ngic-access-network", Title: "ngic access network", File: "access-network.json",
		Description: "The devices the controller polls: reachability, traffic, PON, DSL and cable figures.",
		Variables:   []Variable{{Name: site, Label: "Site", Measurement: telemetry.MeasPoll, Tag: telemetry.TagSite}},
		Panels: []Panel{
			{
				Title: "Devices up", Kind: Stat, Unit: "short", Measurement: telemetry.MeasPoll,
				Description: "Devices whose last poll in the time range answered.",
				Queries: q1(fmt.Sprintf(`SELECT count(%s) FROM (SELECT %s FROM %s %s %s) WHERE %s = '%s'`,
					ident(telemetry.FieldStatus), agg("last", telemetry.FieldStatus, telemetry.FieldStatus),
					ident(telemetry.MeasPoll), where(bySite), groupBy(telemetry.TagDevice),
					ident(telemetry.FieldStatus), telemetry.PollUp), ""),
			},
			{
				Title: "Last poll per device", Kind: Table, Measurement: telemetry.MeasPoll,
				Description: "Each device's last poll: up, down or auth-failed, and how long it took.",
				Queries: q1(fmt.Sprintf(`SELECT %s, %s, %s FROM %s %s %s`,
					agg("last", telemetry.FieldStatus, telemetry.FieldStatus),
					agg("last", telemetry.FieldDurationS, telemetry.FieldDurationS),
					agg("last", telemetry.FieldVarbinds, telemetry.FieldVarbinds),
					ident(telemetry.MeasPoll), where(bySite), groupBy(telemetry.TagDevice, telemetry.TagClass, telemetry.TagSite)), ""),
			},
			{
				Title: "Poll time by class", Kind: TimeSeries, Unit: "s", Measurement: telemetry.MeasPoll,
				Description: "Mean time of one poll, per device class.",
				Queries: q1(fmt.Sprintf(`SELECT mean(%s) FROM %s %s %s`, ident(telemetry.FieldDurationS),
					ident(telemetry.MeasPoll), where(bySite), overTime(telemetry.TagClass)), "$tag_class"),
			},
			{
				Title: "Interface traffic", Kind: TimeSeries, Unit: "bps", Measurement: telemetry.MeasInterface,
				Description: "Mean received and sent rates per interface.",
				Queries: q1(fmt.Sprintf(`SELECT %s, %s FROM %s %s %s`,
					agg("mean", telemetry.FieldInBps, "in"), agg("mean", telemetry.FieldOutBps, "out"),
					ident(telemetry.MeasInterface), where(bySite), overTime(telemetry.TagDevice, telemetry.TagIfIndex, telemetry.TagIfName)),
					"$tag_device $tag_if_name $col"),
			},
			{
				Title: "Interfaces down", Kind: Table, Measurement: telemetry.MeasInterface,
				Description: "Interfaces administratively up whose last state is not up.",
				Queries: q1(fmt.Sprintf(`SELECT * FROM (SELECT %s, %s FROM %s %s %s) WHERE %s = 'up' AND %s <> 'up' %s`,
					agg("last", telemetry.FieldAdminStatus, telemetry.FieldAdminStatus),
					agg("last", telemetry.FieldOperStatus, telemetry.FieldOperStatus),
					ident(telemetry.MeasInterface), where(bySite), groupBy(telemetry.TagDevice, telemetry.TagIfIndex, telemetry.TagIfName),
					ident(telemetry.FieldAdminStatus), ident(telemetry.FieldOperStatus),
					groupBy(telemetry.TagDevice, telemetry.TagIfIndex, telemetry.TagIfName)), ""),
			},
			{
				Title: "ONTs online per PON port", Kind: TimeSeries, Unit: "short", Measurement: telemetry.MeasPONPort,
				Description: "A fibre cut shows as a drop on one port.",
				Queries: q1(fmt.Sprintf(`SELECT last(%s) FROM %s %s %s`, ident(telemetry.FieldONTsOnline),
					ident(telemetry.MeasPONPort), where(bySite), overTime(telemetry.TagDevice, telemetry.TagIfIndex, telemetry.TagIfName)),
					"$tag_device $tag_if_name"),
			},
			{
				Title: "Subscribers online", Kind: TimeSeries, Unit: "short", Measurement: telemetry.MeasAccess,
				Description: "ONTs, cable modems and DSL lines in showtime, summed over the devices.",
				Queries: q1(fmt.Sprintf(`SELECT sum("onts") AS "onts", sum("modems") AS "modems", sum("dsl") AS "dsl" FROM (SELECT %s, %s, %s FROM %s %s %s) %s`,
					agg("last", telemetry.FieldONTsOnline, "onts"), agg("last", telemetry.FieldModemsOnline, "modems"),
					agg("last", telemetry.FieldDSLShowtime, "dsl"), ident(telemetry.MeasAccess), where(bySite),
					strings.TrimSuffix(overTime(telemetry.TagDevice), " fill(none)"), overTime()), "$col"),
			},
			{
				Title: "Cable upstream SNR", Kind: TimeSeries, Unit: "dB", Measurement: telemetry.MeasCableChannel,
				Description: "Mean signal-to-noise ratio of each DOCSIS upstream channel.",
				Queries: q1(fmt.Sprintf(`SELECT mean(%s) FROM %s %s %s`, ident(telemetry.FieldSNRdB),
					ident(telemetry.MeasCableChannel),
					where(fmt.Sprintf("%s = '%s'", ident(telemetry.TagDirection), telemetry.DirectionUp), bySite),
					overTime(telemetry.TagDevice, telemetry.TagIfIndex, telemetry.TagIfName)), "$tag_device $tag_if_name"),
			},
			{
				Title: "DSL lines in showtime", Kind: TimeSeries, Unit: "short", Measurement: telemetry.MeasAccess,
				Description: "Lines of each DSLAM in showtime, against its lines.",
				Queries: q1(fmt.Sprintf(`SELECT %s, %s FROM %s %s %s`,
					agg("last", telemetry.FieldDSLShowtime, "showtime"), agg("last", telemetry.FieldDSLLines, "lines"),
					ident(telemetry.MeasAccess), where(ident(telemetry.FieldDSLLines)+" > 0", bySite), overTime(telemetry.TagDevice)),
					"$tag_device $col"),
			},
		},
	}
}

func convergence() Dashboard {
	const region, level = "region", "level"
	cov := ident(telemetry.MeasCoverageRegion)
	all := fmt.Sprintf("%s = 'all'", ident(telemetry.TagSubset))
	byLevel := match(telemetry.TagLevel, level)
	byRegion := match(telemetry.TagRegion, region)
	return Dashboard{
		UID: "ngic-convergence", Title: "ngic convergence", File: "convergence.json",
		Description: "Coverage snapshots per region (service tiers, digital TV, convergence) and the TV network.",
		Variables: []Variable{
			{Name: level, Label: "Level", Measurement: telemetry.MeasCoverageRegion, Tag: telemetry.TagLevel},
			{Name: region, Label: "Region", Measurement: telemetry.MeasCoverageRegion, Tag: telemetry.TagRegion},
		},
		Panels: []Panel{
			{
				Title: "Converged share by region", Kind: Table, Unit: "percentunit", Measurement: telemetry.MeasCoverageRegion,
				Description: "Latest snapshot: households' share with data, voice and video, digital TV and next-generation access.",
				Queries: q1(fmt.Sprintf(`SELECT %s, %s, %s, %s, %s FROM %s %s %s`,
					agg("last", telemetry.FieldConvergedShare, telemetry.FieldConvergedShare),
					agg("last", telemetry.FieldDigitalTVShare, telemetry.FieldDigitalTVShare),
					agg("last", telemetry.FieldNextGenShare, telemetry.FieldNextGenShare),
					agg("last", telemetry.FieldTakeUp, telemetry.FieldTakeUp),
					agg("last", telemetry.FieldHouseholds, telemetry.FieldHouseholds),
					cov, where(all, byLevel, byRegion), groupBy(telemetry.TagLevel, telemetry.TagRegion)), ""),
			},
			{
				Title: "Households per service tier", Kind: Table, Unit: "percentunit", Measurement: telemetry.MeasCoverageRegion,
				Description: "Latest snapshot: the share of households in each configured tier (one column a tier).",
				Queries: q1(fmt.Sprintf(`SELECT last(/^%s/) FROM %s %s %s`, telemetry.FieldShareHouseholdsPrefix,
					cov, where(all, byLevel, byRegion), groupBy(telemetry.TagLevel, telemetry.TagRegion)), ""),
			},
			{
				Title: "Convergence over time", Kind: TimeSeries, Unit: "percentunit", Measurement: telemetry.MeasCoverageRegion,
				Description: "Converged and digital TV shares of each region's households, snapshot by snapshot.",
				Queries: q1(fmt.Sprintf(`SELECT %s, %s FROM %s %s %s`,
					agg("last", telemetry.FieldConvergedShare, "converged"),
					agg("last", telemetry.FieldDigitalTVShare, "digital_tv"),
					cov, where(all, byLevel, byRegion), overTime(telemetry.TagRegion)), "$tag_region $col"),
			},
			{
				Title: "Priority villages: take-up", Kind: TimeSeries, Unit: "percentunit", Measurement: telemetry.MeasCoverageRegion,
				Description: "Subscribers online per household, all villages against the priority villages.",
				Queries: q1(fmt.Sprintf(`SELECT last(%s) FROM %s %s %s`, ident(telemetry.FieldTakeUp),
					cov, where(byLevel, byRegion), overTime(telemetry.TagRegion, telemetry.TagSubset)), "$tag_region $tag_subset"),
			},
			{
				Title: "TV transmitters and headends", Kind: Table, Measurement: telemetry.MeasTVStatus,
				Description: "Each TV device's last status word, active alarms, synchronisation and RF output level.",
				Queries: q1(fmt.Sprintf(`SELECT %s, %s, %s, %s FROM %s %s %s`,
					agg("last", telemetry.FieldStatus, telemetry.FieldStatus),
					agg("last", telemetry.FieldActiveAlarms, telemetry.FieldActiveAlarms),
					agg("last", telemetry.FieldSynchronized, telemetry.FieldSynchronized),
					agg("last", telemetry.FieldLevelDBm, telemetry.FieldLevelDBm),
					ident(telemetry.MeasTVStatus), where(), groupBy(telemetry.TagDevice, telemetry.TagSite)), ""),
			},
			{
				Title: "TV input quality", Kind: TimeSeries, Unit: "dB", Measurement: telemetry.MeasTVInput,
				Description: "Mean carrier-to-noise ratio of each tuner input.",
				Queries: q1(fmt.Sprintf(`SELECT mean(%s) FROM %s %s %s`, ident(telemetry.FieldCNdB),
					ident(telemetry.MeasTVInput), where(), overTime(telemetry.TagDevice, telemetry.TagInput)),
					"$tag_device input $tag_input"),
			},
		},
	}
}

func edge() Dashboard {
	const gateway = "gateway"
	byGW := match(telemetry.TagGateway, gateway)
	return Dashboard{
		UID: "ngic-edge", Title: "ngic edge", File: "edge.json",
		Description: "The field gateways: health, spool, losses, RFID and photo-eye events, passages.",
		Variables:   []Variable{{Name: gateway, Label: "Gateway", Measurement: telemetry.MeasGatewayHealth, Tag: telemetry.TagGateway}},
		Panels: []Panel{
			{
				Title: "Gateways", Kind: Table, Measurement: telemetry.MeasGatewayHealth,
				Description: "Each gateway's last health message.",
				Queries: q1(fmt.Sprintf(`SELECT %s, %s, %s, %s, %s, %s, %s FROM %s %s %s`,
					agg("last", telemetry.FieldVersion, telemetry.FieldVersion),
					agg("last", telemetry.FieldUptimeS, telemetry.FieldUptimeS),
					agg("last", telemetry.FieldReadersConnected, telemetry.FieldReadersConnected),
					agg("last", telemetry.FieldReadersTotal, telemetry.FieldReadersTotal),
					agg("last", telemetry.FieldSpoolRecords, telemetry.FieldSpoolRecords),
					agg("last", telemetry.FieldBrokerReconnects, telemetry.FieldBrokerReconnects),
					agg("last", telemetry.FieldLostTotal, telemetry.FieldLostTotal),
					ident(telemetry.MeasGatewayHealth), where(byGW), groupBy(telemetry.TagGateway, telemetry.TagSite)), ""),
			},
			{
				Title: "Spool backlog", Kind: TimeSeries, Unit: "short", Measurement: telemetry.MeasGatewayHealth,
				Description: "Events waiting in each gateway's spool for the broker's acknowledgement.",
				Queries: q1(fmt.Sprintf(`SELECT max(%s) FROM %s %s %s`, ident(telemetry.FieldSpoolRecords),
					ident(telemetry.MeasGatewayHealth), where(byGW), overTime(telemetry.TagGateway)), "$tag_gateway"),
			},
			{
				Title: "Events lost by reason", Kind: TimeSeries, Unit: "short", Measurement: telemetry.MeasGatewayLost,
				Description: "Events each gateway lost since it started, by cause (overflow, full disk, crash...).",
				Queries: q1(fmt.Sprintf(`SELECT last(%s) FROM %s %s %s`, ident(telemetry.FieldCount),
					ident(telemetry.MeasGatewayLost), where(byGW), overTime(telemetry.TagGateway, telemetry.TagReason)),
					"$tag_gateway $tag_reason"),
			},
			{
				Title: "Events by type", Kind: TimeSeries, Unit: "short", Measurement: telemetry.MeasEdgeEvent,
				Description: "Tag arrivals and departures, beams blocked, cleared and held, per interval.",
				Queries: q1(fmt.Sprintf(`SELECT count(%s) FROM %s %s %s`, ident(telemetry.FieldSeq),
					ident(telemetry.MeasEdgeEvent), where(byGW), overTime(telemetry.TagType)), "$tag_type"),
			},
			{
				Title: "Tags seen per reader", Kind: Table, Measurement: telemetry.MeasEdgeEvent,
				Description: "Tag arrivals in the time range, per gateway and reader.",
				Queries: q1(fmt.Sprintf(`SELECT count(%s) AS "arrivals" FROM %s %s %s`, ident(telemetry.FieldTagID),
					ident(telemetry.MeasEdgeEvent),
					where(fmt.Sprintf("%s = '%s'", ident(telemetry.TagType), telemetry.TagArrived), byGW),
					groupBy(telemetry.TagGateway, telemetry.TagSource)), ""),
			},
			{
				Title: "Passages", Kind: TimeSeries, Unit: "short", Measurement: telemetry.MeasPassage,
				Description: "Passages through each pair of beams, in and out, per interval.",
				Queries: q1(fmt.Sprintf(`SELECT count(%s) FROM %s %s %s`, ident(telemetry.FieldSeq),
					ident(telemetry.MeasPassage), where(byGW), overTime(telemetry.TagGateway, telemetry.TagSource, telemetry.TagDirection)),
					"$tag_gateway $tag_source $tag_direction"),
			},
		},
	}
}
