// ngic on InfluxDB 2.x: the interface_1h continuous query of
// retention.iql as a task. Create it with
//   influx task create --org ngic --file interface_1h.flux
option task = {name: "ngic interface_1h", every: 1h, offset: 1m}

data = from(bucket: "ngic")
    |> range(start: -task.every)
    |> filter(fn: (r) => r._measurement == "interface")

union(tables: [
    data |> filter(fn: (r) => r._field == "in_bps" or r._field == "out_bps" or r._field == "in_errors_per_s" or r._field == "out_errors_per_s")
        |> aggregateWindow(every: 1h, fn: mean, timeSrc: "_start", createEmpty: false),
    data |> filter(fn: (r) => r._field == "in_bps" or r._field == "out_bps")
        |> aggregateWindow(every: 1h, fn: max, timeSrc: "_start", createEmpty: false)
        |> map(fn: (r) => ({r with _field: r._field + "_max"})),
])
    |> set(key: "_measurement", value: "interface_1h")
    |> to(bucket: "ngic-trend", org: "ngic")
