-- Another name a channel knows an address by: on Telegram the chat id a group got when it
-- became a supergroup stands for the address its team started with, and the reverse. A chat
-- migrates once, so rows are written once and read on every group message.
CREATE TABLE chat_aliases (
	channel TEXT NOT NULL,
	alias   TEXT NOT NULL,
	address TEXT NOT NULL,
	PRIMARY KEY (channel, alias)
) WITHOUT ROWID;
