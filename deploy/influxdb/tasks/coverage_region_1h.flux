// ngic on InfluxDB 2.x: the coverage_region_1h continuous query of retention.iql as a
// task (influx task create --org ngic --file coverage_region_1h.flux).
option task = {name: "ngic coverage_region_1h", every: 1h, offset: 1m}

data = from(bucket: "ngic")
    |> range(start: -task.every)
    |> filter(fn: (r) => r._measurement == "coverage_region")

data
    |> aggregateWindow(every: 1h, fn: last, timeSrc: "_start", createEmpty: false)
    |> map(fn: (r) => ({r with _field: "last_" + r._field}))
    |> set(key: "_measurement", value: "coverage_region_1h")
    |> to(bucket: "ngic-trend", org: "ngic")
