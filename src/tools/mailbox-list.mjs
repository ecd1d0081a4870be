#!/usr/bin/env node
// `npm run mailbox`: the messages in the local mailbox, newest first. `npm run mailbox -- <id>`: one
// message's text part and its links. Reads the mailbox directory (MAILBOX_DIR, default
// .wrangler/mailbox) directly, so it works whether or not `npm start` is running.
import path from "node:path";
import { DEFAULT_MAILBOX_DIR, decodeEntities, extractLinks, formatAddresses, formatTime, listMessages, parseMessage, readMessage } from "./mailbox.mjs";

const dir = process.env.MAILBOX_DIR || DEFAULT_MAILBOX_DIR;
const relativeDir = path.relative(process.cwd(), dir);
const shownDir = relativeDir && !relativeDir.startsWith("..") ? relativeDir : dir;
const id = process.argv[2];

if (!id) {
  const messages = await listMessages(dir);
  if (!messages.length) {
    console.log(`No messages in ${shownDir} yet.`);
  } else {
    for (const m of messages) {
      console.log(`${formatTime(m.receivedAt)}  ${m.from || "<>"} → ${m.to.join(", ")}  ${m.subject || "(no subject)"}  ${m.id}`);
    }
    console.log(`\n${messages.length} message${messages.length === 1 ? "" : "s"} in ${shownDir}. Show one: npm run mailbox -- <id>`);
  }
} else {
  const message = await readMessage(dir, id);
  if (!message) {
    console.error(`No message ${id} in ${shownDir}. List them with: npm run mailbox`);
    process.exit(1);
  }
  const email = await parseMessage(message.raw);
  console.log(`From:     ${formatAddresses(email.from) || message.summary.from}`);
  console.log(`To:       ${formatAddresses(email.to) || message.summary.to.join(", ")}`);
  console.log(`Subject:  ${email.subject || message.summary.subject}`);
  console.log(`Received: ${formatTime(message.summary.receivedAt)}\n`);
  console.log(email.text?.trimEnd() || (email.html ? `(no text part; the HTML part as text)\n${htmlToText(email.html)}` : "(no text part)"));
  const links = extractLinks(email);
  console.log(links.length ? `\nLinks:\n${links.map((link, i) => `  [${i + 1}] ${link}`).join("\n")}` : "\nNo links.");
}

/** Enough of the HTML part to read in a terminal when a message has no text part. */
function htmlToText(html) {
  const text = html
    .replace(/<(style|script|head)\b[\s\S]*?<\/\1\s*>/gi, "")
    .replace(/<(br|\/p|\/div|\/h[1-6]|\/li|\/tr)\b[^>]*>/gi, "\n")
    .replace(/<[^>]*>/g, "");
  return decodeEntities(text)
    .replace(/[ \t]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
