// ngic on InfluxDB 2.x: the pon_port_1h continuous query of retention.iql
// as a task (influx task create --org ngic --file pon_port_1h.flux).
option task = {name: "ngic pon_port_1h", every: 1h, offset: 1m}

data = from(bucket: "ngic")
    |> range(start: -task.every)
    |> filter(fn: (r) => r._measurement == "pon_port")

union(tables: [
    data |> filter(fn: (r) => r._field == "onts_online" or r._field == "onts_offline")
        |> aggregateWindow(every: 1h, fn: mean, timeSrc: "_start", createEmpty: false),
    data |> filter(fn: (r) => r._field == "onts_online")
        |> aggregateWindow(every: 1h, fn: min, timeSrc: "_start", createEmpty: false)
        |> map(fn: (r) => ({r with _field: "onts_online_min"})),
    data |> filter(fn: (r) => r._field == "onts_total")
        |> aggregateWindow(every: 1h, fn: max, timeSrc: "_start", createEmpty: false),
])
    |> set(key: "_measurement", value: "pon_port_1h")
    |> to(bucket: "ngic-trend", org: "ngic")
