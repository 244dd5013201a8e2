"""The chat page's style and its few lines of browser script (copy, source panels, scrolling, the counter).

The script is installed by a component of the page itself (``gr.HTML(js_on_load=...)``), so an app from
:func:`ui.app.build_app` behaves the same however it is launched. It only reads the page and writes
to the clipboard: everything it copies is the text the server rendered (escaped) for that purpose.
"""

from __future__ import annotations

from qa.engine import MAX_QUESTION_CHARS

CSS = """
#qa-header h1 { margin-bottom: 0; }
.qa-understood { color: var(--body-text-color-subdued); font-size: 0.9em; margin-bottom: 0.4em; }
.qa-time { color: var(--body-text-color-subdued); font-size: 0.9em; margin-bottom: 0.4em; }
.qa-answer { margin: 0 0 0.3em 0; }
.qa-meta { color: var(--body-text-color-subdued); font-size: 0.85em; margin: 0 0 0.5em 0; }
.qa-sources-title { font-weight: 600; margin: 0.4em 0 0.2em 0; }
.qa-sources ol { margin: 0; padding-left: 1.4em; }
.qa-source { margin-bottom: 0.6em; }
.qa-source-title { font-weight: 600; }
.qa-file, .qa-date, .qa-where { color: var(--body-text-color-subdued); font-size: 0.85em; }
.qa-agreement { font-size: 0.9em; margin: 0 0 0.5em 0; }
.qa-worded { font-size: 0.85em; margin: 0.1em 0; }
.qa-alternatives ol { margin: 0; padding-left: 1.4em; }
.qa-alternatives ul { margin: 0.2em 0 0.6em 0; padding-left: 1.2em; list-style: none; }
.qa-passage { margin: 0.2em 0 0.3em 0; padding-left: 0.6em; border-left: 3px solid var(--border-color-primary);
              font-size: 0.9em; }
.qa-article summary, .qa-sources > summary { cursor: pointer; font-size: 0.85em; color: var(--link-text-color); }
.qa-article-text { max-height: 22em; overflow-y: auto; font-size: 0.9em; padding: 0.4em 0.6em; margin-top: 0.3em;
                   border: 1px solid var(--border-color-primary); border-radius: 4px; }
.qa-cite-button { background: none; border: none; padding: 0 1px; margin: 0; cursor: pointer; font: inherit;
                  line-height: 1.2; color: var(--link-text-color); }
.qa-copy { float: right; font-size: 0.8em; padding: 1px 8px; margin-top: 0.3em; cursor: pointer;
           border: 1px solid var(--border-color-primary); border-radius: 4px; background: none; color: inherit; }
.qa-copytext { display: none !important; }
.qa-pending { color: var(--body-text-color-subdued); }
.qa-error { color: #b91c1c; margin: 0; }
.dark .qa-error { color: #fca5a5; }
/* a highlight sets its text colour with its background: the page's text colour flips in dark mode */
.qa-answer strong { background: #fef3c7; color: #1f2937; padding: 0 2px; border-radius: 3px; }
.qa-passage mark, .qa-article-text mark { background: #fde68a; color: #1f2937; }
.qa-noanswer strong { color: #92400e; }
.dark .qa-answer strong { background: #78350f; color: #fef3c7; }
.dark .qa-passage mark, .dark .qa-article-text mark { background: #92400e; color: #fffbeb; }
.dark .qa-noanswer strong { color: #fbbf24; }
/* thumbs belong under answers: not under a failure or a reply still to come */
#chat .message-row:has(.qa-error) + .message-buttons,
#chat .message-row:has(.qa-pending) + .message-buttons { display: none; }
/* thumbs up first, then down */
#chat .message-buttons button[aria-label^="Dislike"] { order: 2; }
#chat .message-buttons button[aria-label^="Like"] { order: 1; }
#question-count { font-size: 0.8em; color: var(--body-text-color-subdued); text-align: right; }
#question-count.qa-over, #question-error { color: #b91c1c; }
.dark #question-count.qa-over, .dark #question-error { color: #fca5a5; }
#question-error:empty { display: none; }
.qa-article-row { align-items: center; border-bottom: 1px solid var(--border-color-primary); padding: 2px 0; }
.qa-article-row .qa-size { color: var(--body-text-color-subdued); font-size: 0.85em; }
"""

LIMIT = f"{MAX_QUESTION_CHARS:,}"

SCRIPT = """
if (window.__qaChat) { return; }
window.__qaChat = true;
const LIMIT = %(limit)d;

function copyText(text, button) {
  const done = () => {
    if (!button) return;
    const was = button.textContent;
    button.textContent = 'Copied';
    setTimeout(() => { button.textContent = was; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => fallbackCopy(text, done));
  } else {
    fallbackCopy(text, done);
  }
}

function fallbackCopy(text, done) {
  const area = document.createElement('textarea');
  area.value = text;
  area.style.position = 'fixed';
  area.style.left = '-9999px';
  document.body.appendChild(area);
  area.select();
  try { document.execCommand('copy'); done(); } finally { area.remove(); }
}

function replyText(reply) {
  const text = reply.querySelector('.qa-copytext');
  return (text ? text.textContent : reply.innerText).trim();
}

window.qaConversationText = () => {
  const parts = [];
  document.querySelectorAll('#chat .qa-question, #chat .qa-reply').forEach(el => {
    parts.push(el.classList.contains('qa-question') ? 'Q: ' + el.textContent.trim() : replyText(el));
  });
  return parts.join('\\n\\n');
};

window.qaCopyAll = (button) => copyText(window.qaConversationText(), button);

function openSource(cite) {
  const reply = cite.closest('.qa-reply');
  const n = parseInt(cite.textContent.replace(/\\D/g, ''), 10);
  const source = reply && reply.querySelectorAll('.qa-sources .qa-source')[n - 1];
  if (!source) return;
  const panel = source.querySelector('details.qa-article');
  if (panel) panel.open = true;
  const mark = panel && panel.querySelector('.qa-article-text mark');
  (mark || source).scrollIntoView({block: 'center'});
}

document.addEventListener('click', (event) => {
  const copy = event.target.closest('#chat .qa-copy');
  if (copy) { copyText(replyText(copy.closest('.qa-reply')), copy); return; }
  const cite = event.target.closest('#chat .qa-cite-button');
  if (cite) { openSource(cite); }
});

function countQuestion() {
  const box = document.querySelector('#question textarea');
  const counter = document.querySelector('#question-count');
  if (!box || !counter) return;
  const n = box.value.trim().replace(/\\s+/g, ' ').length;  // counted as the server counts
  counter.textContent = n.toLocaleString('en') + ' / ' + LIMIT.toLocaleString('en') + ' characters';
  counter.classList.toggle('qa-over', n > LIMIT);
}
document.addEventListener('input', (event) => {
  if (event.target.closest && event.target.closest('#question')) countQuestion();
});

// A new reply is scrolled to its start (the question above it when it fits), not to the end of its
// sources; a new question is scrolled into view at the bottom.
let seen = {questions: 0, replies: 0};
function follow() {
  const chat = document.querySelector('#chat');
  const log = chat && chat.querySelector('[role=log]');
  if (!log) return;
  const questions = chat.querySelectorAll('.qa-question');
  const replies = chat.querySelectorAll('.qa-reply');
  if (replies.length > seen.replies) {
    const reply = replies[replies.length - 1];
    const row = reply.closest('.message-row') || reply;
    const top = row.getBoundingClientRect().top - log.getBoundingClientRect().top + log.scrollTop;
    log.scrollTop = Math.max(0, top - 48);
  } else if (questions.length > seen.questions) {
    log.scrollTop = log.scrollHeight;
  }
  seen = {questions: questions.length, replies: replies.length};
  countQuestion();
}
let scheduled = false;
new MutationObserver(() => {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => { scheduled = false; follow(); });
}).observe(document.body, {childList: true, subtree: true, characterData: true});
follow();
""" % {"limit": MAX_QUESTION_CHARS}  # noqa: UP031 - %-format: the script's braces would need doubling
