// ngic on InfluxDB 2.x: the gateway_health_1h continuous query of retention.iql as a
// task (influx task create --org ngic --file gateway_health_1h.flux).
option task = {name: "ngic gateway_health_1h", every: 1h, offset: 1m}

data = from(bucket: "ngic")
    |> range(start: -task.every)
    |> filter(fn: (r) => r._measurement == "gateway_health")

union(tables: [
    data |> filter(fn: (r) => r._field == "spool_records" or r._field == "spool_bytes")
        |> aggregateWindow(every: 1h, fn: max, timeSrc: "_start", createEmpty: false)
        |> map(fn: (r) => ({r with _field: r._field + "_max"})),
    data |> filter(fn: (r) => r._field == "readers_connected")
        |> aggregateWindow(every: 1h, fn: min, timeSrc: "_start", createEmpty: false)
        |> map(fn: (r) => ({r with _field: "readers_connected_min"})),
    data |> filter(fn: (r) => r._field == "lost_total" or r._field == "broker_reconnects")
        |> aggregateWindow(every: 1h, fn: max, timeSrc: "_start", createEmpty: false),
])
    |> set(key: "_measurement", value: "gateway_health_1h")
    |> to(bucket: "ngic-trend", org: "ngic")
