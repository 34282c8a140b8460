package config

import (
	"github.com/ngic/ngic/controller/inventory"
)

// The inventory folder is read by controller/inventory; these names keep
// the configuration's callers as they were.
type (
	// Inventory is the content of the inventory folder.
	Inventory = inventory.Inventory
	// Device is one row of devices.csv.
	Device = inventory.Device
	// Gateway is one row of gateways.csv.
	Gateway = inventory.Gateway
)

// LoadInventory reads the inventory folder dir (controller/inventory.Load).
// creds maps each credential name of the configuration to its version; a
// devices.csv credentials cell must name one of them or give
// community:<string>.
func LoadInventory(dir string, creds map[string]string) (*Inventory, error) {
	if creds == nil {
		creds = map[string]string{}
	}
	return inventory.Load(dir, inventory.Options{Credentials: creds})
}
