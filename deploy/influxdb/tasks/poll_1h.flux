// ngic on InfluxDB 2.x: the poll_1h and poll_up_1h continuous queries of
// retention.iql as one task (influx task create --org ngic --file poll_1h.flux).
option task = {name: "ngic poll_1h", every: 1h, offset: 1m}

data = from(bucket: "ngic")
    |> range(start: -task.every)
    |> filter(fn: (r) => r._measurement == "poll")
status = data |> filter(fn: (r) => r._field == "status")

union(tables: [
    status
        |> aggregateWindow(every: 1h, fn: count, timeSrc: "_start", createEmpty: false)
        |> map(fn: (r) => ({r with _field: "polls"})),
    status |> filter(fn: (r) => r._value == "up")
        |> aggregateWindow(every: 1h, fn: count, timeSrc: "_start", createEmpty: false)
        |> map(fn: (r) => ({r with _field: "polls_up"})),
    data |> filter(fn: (r) => r._field == "duration_s")
        |> aggregateWindow(every: 1h, fn: mean, timeSrc: "_start", createEmpty: false),
])
    |> set(key: "_measurement", value: "poll_1h")
    |> to(bucket: "ngic-trend", org: "ngic")
