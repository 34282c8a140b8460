// Package deps pins modules that packages under construction use, so that
// go mod tidy keeps them while those packages land one by one.
package deps

import (
	_ "github.com/creack/pty"
	_ "github.com/eclipse/paho.mqtt.golang"
	_ "github.com/google/uuid"
	_ "github.com/influxdata/influxdb-client-go/v2"
	_ "github.com/mochi-mqtt/server/v2"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/spf13/cobra"
	_ "github.com/tarm/serial"
	_ "go.etcd.io/bbolt"
	_ "gopkg.in/yaml.v3"
	_ "periph.io/x/conn/v3/gpio"
	_ "periph.io/x/host/v3"
)
