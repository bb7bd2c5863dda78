package campaigns

// Offered returns the buttons a participant in state may have been offered there: those of
// the state's say, of the say of every transition that leads into it, and of its transitions
// that stay. Validation checks choice transitions against them; the engine takes a typed
// title of one of them as a tap.
func (d *Definition) Offered(state string) []Button {
	if d.States[state] == nil {
		return nil
	}
	var out []Button
	add := func(msgs []Message) {
		for _, m := range msgs {
			out = append(out, m.Buttons...)
		}
	}
	add(d.States[state].Say)
	for _, name := range d.Order {
		for _, t := range d.States[name].On {
			if t.Goto == state || t.Goto == "" && name == state {
				add(t.Say)
			}
		}
	}
	return out
}
