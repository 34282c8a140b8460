package demo

import (
	"fmt"
	"path/filepath"

	"github.com/ngic/ngic/controller/simulator/world"
)

// gatewayPlan is one edge gateway of the demo: its name, the inventory
// site it stands at, and the emulated reader it reads.
type gatewayPlan struct {
	Name, Site string
	// Reader names the reader in events; Protocol is its protocol.
	Reader, Protocol string
}

// plan is what the demo runs on a generated county: the world, its two
// gateways, the cabinet whose door opens and the device that goes down.
type plan struct {
	World    *world.World
	Gateways []gatewayPlan
	// Door is the gateway whose cabinet door the scenario opens (an index
	// of Gateways); Down the device it takes down.
	Door int
	Down string
}

// doorSensor names the cabinet door's photo-eye.
const doorSensor = "front"

// newPlan generates the county (villages, seed; devices at the simulator's
// UDP port) and chooses its gateways: the county's own, at the central
// office, with a UHF reader (magicrf), and a second one at a street
// cabinet with a 125 kHz badge reader (em4100) and the door that opens.
// The device that goes down stands in that cabinet where one does (an
// ADSL DSLAM), else it is the first device behind another.
func newPlan(villages int, seed int64, port int) (*plan, error) {
	w, err := world.Generate(world.Options{Villages: villages, Seed: seed, Port: port})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if len(w.Gateways) == 0 {
		return nil, fmt.Errorf("demo: the generated county has no gateway")
	}
	cabinet, down := "", ""
	for _, d := range w.Devices {
		if d.Kind == world.KindDSLAMADSL {
			cabinet, down = d.Site, d.ID
			break
		}
	}
	if cabinet == "" {
		for _, s := range w.Sites {
			if s.Kind == "cabinet" {
				cabinet = s.ID
				break
			}
		}
		for _, d := range w.Devices {
			if d.Parent != "" {
				down = d.ID
				break
			}
		}
	}
	if cabinet == "" || down == "" {
		return nil, fmt.Errorf("demo: the generated county of %d villages has no cabinet or no device behind another; give more villages", villages)
	}
	p := &plan{World: w, Door: 1, Down: down, Gateways: []gatewayPlan{
		{Name: w.Gateways[0].Name, Site: w.Gateways[0].Site, Reader: "dock-uhf", Protocol: "magicrf"},
		{Name: "gw-" + cabinet, Site: cabinet, Reader: "badge", Protocol: "em4100"},
	}}
	w.Gateways = append(w.Gateways, world.Gateway{Name: p.Gateways[1].Name, Site: cabinet})
	return p, nil
}

// write writes the county under dir: dir/inventory and dir/recordings.
func (p *plan) write(dir string) error {
	if err := p.World.Write(dir); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// inventoryDir and recordingsDir are the folders write makes under dir.
func inventoryDir(dir string) string  { return filepath.Join(dir, world.InventoryDir) }
func recordingsDir(dir string) string { return filepath.Join(dir, world.RecordingsDir) }
