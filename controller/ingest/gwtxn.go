package ingest

// gwTxn is what a batch stages of one gateway beside its record (gwRec):
// its present tags and the IDs of the events it records. The events of a
// batch come in runs of one gateway, so the last one used is kept at hand
// (txn.g) and an event finds its gateway's maps with one comparison.
type gwTxn struct {
	name string
	rec  *gwRec
	// started tells whether the committed record had started its sequence.
	started bool
	// cur are the committed tags, tags the staged ones (nil value:
	// deleted; the same map as txn.tags[name], made on first use), and
	// tagN their staged count.
	cur  map[tagKey]*PresentTag
	tags map[tagKey]*PresentTag
	tagN int
	// ring holds the committed recent IDs, ids and idList those of the
	// events the batch records, and log the stored chunks once store ran.
	ring   *idRing
	ids    *idSet
	idList []uint64
	log    *idLog
}

// g returns the batch's staging of gateway name, made on first use.
func (t *txn) g(name string) *gwTxn {
	if l := t.last; l != nil && l.name == name {
		return l
	}
	g := t.gt[name]
	if g == nil {
		cur := t.st.tags[name]
		committed := t.st.gws[name]
		g = &gwTxn{name: name, rec: t.gw(name), started: committed != nil && committed.Seq.Started,
			cur: cur, tagN: len(cur), ring: t.in.ids[name]}
		if r := g.ring; r != nil { // its scratch, sized by the batches before
			r.batch.clear()
			g.ids, g.idList = &r.batch, r.batchList[:0]
		} else {
			g.ids = new(idSet)
		}
		t.gt[name] = g
	}
	t.last = g
	return g
}

// tag returns the present tag k as staged.
func (t *txn) tag(g *gwTxn, k tagKey) *PresentTag {
	if p, ok := g.tags[k]; ok {
		return p
	}
	return g.cur[k]
}

// setTag stages p (nil: deleted) as the present tag k, which was was as
// staged, keeping the staged count.
func (t *txn) setTag(g *gwTxn, k tagKey, was, p *PresentTag) {
	switch {
	case p != nil && was == nil:
		g.tagN++
	case p == nil && was != nil:
		g.tagN--
	}
	if g.tags == nil {
		g.tags = map[tagKey]*PresentTag{}
		t.tags[g.name] = g.tags
	}
	g.tags[k] = p
}

// seenID tells whether the batch recorded, or the gateway recently
// recorded, an event whose ID hashes to h.
func (g *gwTxn) seenID(h uint64) bool {
	return g.ids.has(h) || g.ring.has(h)
}

// addID notes that the batch records an event whose ID hashes to h.
func (g *gwTxn) addID(h uint64) {
	g.ids.add(h)
	g.idList = append(g.idList, h)
}
