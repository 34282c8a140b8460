// ngic on InfluxDB 2.x: the edge_event_1h continuous query of retention.iql as a
// task (influx task create --org ngic --file edge_event_1h.flux).
option task = {name: "ngic edge_event_1h", every: 1h, offset: 1m}

data = from(bucket: "ngic")
    |> range(start: -task.every)
    |> filter(fn: (r) => r._measurement == "edge_event")

data
    |> filter(fn: (r) => r._field == "seq")
    |> aggregateWindow(every: 1h, fn: count, timeSrc: "_start", createEmpty: false)
    |> map(fn: (r) => ({r with _field: "events"}))
    |> set(key: "_measurement", value: "edge_event_1h")
    |> to(bucket: "ngic-trend", org: "ngic")
