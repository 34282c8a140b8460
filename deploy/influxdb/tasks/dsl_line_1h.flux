// ngic on InfluxDB 2.x: the dsl_line_1h continuous query of retention.iql as a
// task (influx task create --org ngic --file dsl_line_1h.flux).
option task = {name: "ngic dsl_line_1h", every: 1h, offset: 1m}

data = from(bucket: "ngic")
    |> range(start: -task.every)
    |> filter(fn: (r) => r._measurement == "dsl_line")

data
    |> filter(fn: (r) => r._field == "actual_down_bps" or r._field == "actual_up_bps" or r._field == "attainable_down_bps")
    |> aggregateWindow(every: 1h, fn: mean, timeSrc: "_start", createEmpty: false)
    |> set(key: "_measurement", value: "dsl_line_1h")
    |> to(bucket: "ngic-trend", org: "ngic")
