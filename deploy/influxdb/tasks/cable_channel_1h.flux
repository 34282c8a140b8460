// ngic on InfluxDB 2.x: the cable_channel_1h continuous query of retention.iql as a
// task (influx task create --org ngic --file cable_channel_1h.flux).
option task = {name: "ngic cable_channel_1h", every: 1h, offset: 1m}

data = from(bucket: "ngic")
    |> range(start: -task.every)
    |> filter(fn: (r) => r._measurement == "cable_channel")

union(tables: [
    data |> filter(fn: (r) => r._field == "snr_db" or r._field == "power_dbmv" or r._field == "modems_online")
        |> aggregateWindow(every: 1h, fn: mean, timeSrc: "_start", createEmpty: false),
    data |> filter(fn: (r) => r._field == "snr_db")
        |> aggregateWindow(every: 1h, fn: min, timeSrc: "_start", createEmpty: false)
        |> map(fn: (r) => ({r with _field: "snr_db_min"})),
])
    |> set(key: "_measurement", value: "cable_channel_1h")
    |> to(bucket: "ngic-trend", org: "ngic")
