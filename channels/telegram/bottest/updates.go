package bottest

// Builders of the documented Update objects, for tests that play a chat.

// Chat is a chat as updates carry it.
type Chat struct {
	ID    int64
	Type  string // private, group or supergroup
	Title string
}

// Private is the private chat of user.
func Private(user User) Chat { return Chat{ID: user.ID, Type: "private"} }

// Group is a basic group (negative id) with a title.
func Group(id int64, title string) Chat { return Chat{ID: id, Type: "group", Title: title} }

// User is a person as updates carry them.
type User struct {
	ID        int64
	FirstName string
}

func (c Chat) object() map[string]any {
	m := map[string]any{"id": c.ID, "type": c.Type}
	if c.Title != "" {
		m["title"] = c.Title
	}
	return m
}

func (u User) object() map[string]any {
	return map[string]any{"id": u.ID, "is_bot": false, "first_name": u.FirstName}
}

func bot() map[string]any {
	return map[string]any{"id": BotID, "is_bot": true, "first_name": "Campaign", "username": BotUsername}
}

const date = 1767611520

func message(id int64, chat Chat, from User, fields map[string]any) map[string]any {
	m := map[string]any{"message_id": id, "date": date, "chat": chat.object(), "from": from.object()}
	for k, v := range fields {
		m[k] = v
	}
	return m
}

// Text is an update with a text message (message_id = update id).
func Text(update int64, chat Chat, from User, text string) map[string]any {
	return map[string]any{"update_id": update, "message": message(update, chat, from, map[string]any{"text": text})}
}

// Photo is an update with a photo in two sizes, the larger one fileID.
func Photo(update int64, chat Chat, from User, fileID, caption string) map[string]any {
	sizes := []map[string]any{
		{"file_id": fileID + "-small", "file_unique_id": "s" + fileID, "width": 90, "height": 67, "file_size": 1412},
		{"file_id": fileID, "file_unique_id": "u" + fileID, "width": 1280, "height": 960},
	}
	fields := map[string]any{"photo": sizes}
	if caption != "" {
		fields["caption"] = caption
	}
	return map[string]any{"update_id": update, "message": message(update, chat, from, fields)}
}

// Video is an update with a video of size bytes.
func Video(update int64, chat Chat, from User, fileID string, size int64) map[string]any {
	v := map[string]any{"file_id": fileID, "file_unique_id": "u" + fileID, "width": 720, "height": 1280,
		"duration": 12, "mime_type": "video/mp4", "file_size": size}
	return map[string]any{"update_id": update, "message": message(update, chat, from, map[string]any{"video": v})}
}

// BotAdded is the my_chat_member update of from adding the bot to group.
func BotAdded(update int64, group Chat, from User) map[string]any {
	return map[string]any{"update_id": update, "my_chat_member": map[string]any{
		"chat": group.object(), "from": from.object(), "date": date,
		"old_chat_member": map[string]any{"status": "left", "user": bot()},
		"new_chat_member": map[string]any{"status": "member", "user": bot()},
	}}
}

// Joined is the service message of members joining group, added by from.
func Joined(update int64, group Chat, from User, members ...User) map[string]any {
	list := make([]map[string]any, len(members))
	for i, m := range members {
		list[i] = m.object()
	}
	return map[string]any{"update_id": update, "message": message(update, group, from, map[string]any{"new_chat_members": list})}
}

// Callback is a tap on the inline button with data under the bot's message in chat.
func Callback(update int64, chat Chat, from User, queryID, data, title string) map[string]any {
	return map[string]any{"update_id": update, "callback_query": map[string]any{
		"id": queryID, "from": from.object(), "chat_instance": "ci", "data": data,
		"message": map[string]any{"message_id": 1, "date": date, "chat": chat.object(), "from": bot(),
			"text": "…", "reply_markup": map[string]any{"inline_keyboard": [][]map[string]any{{{"text": title, "callback_data": data}}}}},
	}}
}

// Migrated is the service message in the old group saying it became the supergroup to.
func Migrated(update int64, group Chat, from User, to int64) map[string]any {
	return map[string]any{"update_id": update, "message": message(update, group, from, map[string]any{"migrate_to_chat_id": to})}
}

// Supergroup is the supergroup a group became.
func Supergroup(id int64, title string) Chat { return Chat{ID: id, Type: "supergroup", Title: title} }
