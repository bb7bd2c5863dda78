// Package channels holds one subpackage per chat platform (whatsapp, telegram, messenger,
// webchat). Each turns the platform's webhooks or requests into normalized engine.Inbound
// events and delivers engine.Outbound replies back to the platform, as an engine.Sender.
// Channels know no campaign logic: what to answer is the engine's business, how to carry it
// is theirs.
package channels
