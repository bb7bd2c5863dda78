package campaigns

// MaxWhatsAppGroup is how many members a WhatsApp group holds (the Groups API's limit).
const MaxWhatsAppGroup = 8

// checkGroups checks a team campaign on WhatsApp, whose teams are WhatsApp groups: a team
// cannot need or take more members than a group holds, and groups get no buttons. A message
// with buttons still works (the channel sends the titles as lines of text and the engine
// takes a typed title as the tap), so that is a warning; the same campaign may offer real
// buttons on the web chat or Telegram.
func (p *parser) checkGroups() {
	def := p.def
	if def.Teams == nil || !def.RunsOn("whatsapp") {
		return
	}
	for _, k := range []struct {
		key  string
		size int
	}{{"teams min", def.Teams.MinSize}, {"teams max", def.Teams.MaxSize}} {
		if n := p.keyOf[k.key]; n != nil && k.size > MaxWhatsAppGroup {
			p.errf(n, "%s (%d): a WhatsApp group holds at most 8 members (channels includes whatsapp)", k.key, k.size)
		}
	}
	for _, n := range p.buttonNodes {
		p.warnf(n, "buttons: a WhatsApp group gets no buttons; its members get the titles as lines of text and type one to choose (channels includes whatsapp)")
	}
}
