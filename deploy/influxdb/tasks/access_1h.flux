// ngic on InfluxDB 2.x: the access_1h continuous query of retention.iql as a
// task (influx task create --org ngic --file access_1h.flux).
option task = {name: "ngic access_1h", every: 1h, offset: 1m}

data = from(bucket: "ngic")
    |> range(start: -task.every)
    |> filter(fn: (r) => r._measurement == "access")

union(tables: [
    data |> filter(fn: (r) => r._field == "onts_online" or r._field == "modems_online" or r._field == "dsl_showtime")
        |> aggregateWindow(every: 1h, fn: mean, timeSrc: "_start", createEmpty: false),
    data |> filter(fn: (r) => r._field == "onts_total" or r._field == "modems_registered" or r._field == "dsl_lines")
        |> aggregateWindow(every: 1h, fn: max, timeSrc: "_start", createEmpty: false),
])
    |> set(key: "_measurement", value: "access_1h")
    |> to(bucket: "ngic-trend", org: "ngic")
