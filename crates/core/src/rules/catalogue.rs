//! The catalogue: every code rapport reports, with the explanation `rapport explain CODE` prints.
//! `docs/rules.md` is generated from this text by [`catalogue_markdown`]; a test fails when the
//! two drift apart (regenerate with `RAPPORT_UPDATE_DOCS=1 cargo test -p rapport-core --lib rules`).
//!
//! Codes are stable: a code never changes meaning once released. `R1xx` are rules (this module's
//! siblings), `M2xx` come from the tone model (`score` and `tone`), `C3xx` from the context in the
//! audit state (`crate::context`: the draft's account and the message it answers).
use crate::findings::{Rule, Severity};

pub(crate) const SHOUTING: Rule = Rule {
    code: "R101",
    name: "shouting",
    default_severity: Severity::Warning,
    explanation: "\
Flags ordinary words written in capitals: one word of three or more letters (\"NOT\", \"NEVER\", \
\"UNACCEPTABLE\") or two or more in a row (\"PLEASE NOTE\"). Capitalised words that are not \
everyday English are left alone, because business mail is full of them: acronyms and abbreviations \
(ASAP, FYI, PDF, EOD, USD, CEO, time zones, file types), anything with a digit (Q3), product, \
company and system codes (NGPL, ENRON), words glued to a slash or an at sign or alone in brackets \
(HOU/ECT, \"(TURN)\"), and headings or labels followed by a colon (\"PAYMENT TERMS:\"). A whole \
sentence of four or more words in capitals is reported as an error.

In email, capitals read as a raised voice. A customer who sees \"PLEASE READ THIS CAREFULLY\" \
hears irritation, and an implied accusation that they were careless, even when the writer only \
wanted the point to stand out.

Flagged: \"The refund will NOT be processed until we receive the form.\"

Better: \"We will process the refund as soon as we receive the form.\"

To stress something, say why it matters instead of making it louder: a short sentence of its own, \
a date or a reason does the job without shouting.",
};

pub(crate) const PILED_PUNCTUATION: Rule = Rule {
    code: "R102",
    name: "piled-punctuation",
    default_severity: Severity::Warning,
    explanation: "\
Flags runs of two or more exclamation or question marks (\"!!\", \"??\", \"?!\", \"!?\" and \
longer) as a warning (marks standing on their own, like the \"????\" a broken character encoding \
leaves, are not counted), and, as information, a message in which three or more sentences end with \
an exclamation mark (a bare \"Thanks!\" or \"Hi Ann!\" does not count).

Doubled question marks read as impatience or disbelief (\"you still haven't paid??\"), doubled \
exclamation marks as shouting, and \"?!\" as exasperation. Many single exclamation marks make a \
message sound over-excited, and insincere when the news is bad.

Flagged: \"Did you get the contract??\"

Better: \"Did the contract reach you? I'm happy to send it again.\"

One mark per sentence is enough; keep the exclamation mark for the one thing you are genuinely \
glad about.",
};

pub(crate) const CURT_REPLY: Rule = Rule {
    code: "R103",
    name: "curt-reply",
    default_severity: Severity::Warning,
    explanation: "\
Flags a message whose whole content, once the greeting (\"Hi Bob,\") and the sign-off (\"Thanks,\" \
and the name under it) are set aside, is one short sentence such as \"Fine.\", \"Noted.\", \
\"Whatever works.\", \"OK.\", \"Sure.\", \"As you wish.\", \"If you say so.\", \"K.\" or \
\"Done.\", or is three words or fewer. A short reply with a warm word in it (\"Great, thanks!\", \
\"Sounds good.\", \"Perfect.\") is not flagged, and neither is an attachment or a link on its own.

Face to face, a one-word answer comes with a tone of voice and a smile; in email it arrives bare. \
Customers read a lone \"Fine.\" as annoyance, \"Noted.\" as a brush-off and \"If you say so.\" as \
open disagreement.

Flagged: \"Noted.\"

Better: \"Thanks for letting me know. I've moved your delivery to Monday.\"

Add one line that shows you read the message: confirm what happens next, or thank them.",
};

pub(crate) const PASSIVE_AGGRESSIVE: Rule = Rule {
    code: "R104",
    name: "passive-aggressive",
    default_severity: Severity::Warning,
    explanation: "\
Flags stock phrases that are widely read as passive-aggressive: \"per my last email\", \"as per my \
previous email\", \"as previously stated\", \"as I said before\", \"as I mentioned\", \"as already \
mentioned\", \"going forward, please\", \"friendly reminder\", \"just to be clear\", \"not sure if \
you saw\", \"kindly\", \"I'll wait\" at the end of a sentence, \"with all due respect\", \"as you \
should know\", \"for the third time\", \"Again,\" opening a sentence, \"it's not rocket science\" \
and \"no offense, but\". \"Thanks in advance\" and \"please advise\" are so common in business \
English that they are reported as information only. Matching ignores case and only matches whole \
words; \"as I mentioned to Dee\" or \"as I mentioned in our call\" reports another conversation \
and is not flagged, \"as I mentioned, ...\" and \"as I mentioned in my last email\" are.

Each of these has a polite surface and a pointed subtext: \"per my last email\" says \"you didn't \
read what I wrote\", \"friendly reminder\" says \"you are late\", \"with all due respect\" warns \
that disrespect follows. Customers know these phrases and read the subtext, not the surface.

Flagged: \"Per my last email, the discount ended on 31 March.\"

Better: \"The discount ended on 31 March, but I can offer you 10% off your next order instead.\"

Say the thing itself, give the reason, and leave out the reminder of what the reader should \
already have done.",
};

pub(crate) const UNSOFTENED_DEMAND: Rule = Rule {
    code: "R105",
    name: "unsoftened-demand",
    default_severity: Severity::Warning,
    explanation: "\
Flags requests made as bare orders: a sentence that opens with an imperative verb (send, fix, \
stop, call, reply, respond, pay, sign, return, provide, update, explain, confirm, complete, \
resolve, make, get, do, give, tell, read, check, submit, deliver, remove, change), possibly after \
\"You need to\", \"You must\" or \"I need you to\"; a sentence that puts an obligation on the \
reader (\"you need to\", \"you must\", \"you have to\", \"I need you to\"); or one that presses \
for speed (\"ASAP\", \"immediately\", \"right now\"). A sentence is not flagged when something in \
it softens the request: please, could you, would you, can you, if possible, when you get a chance, \
would you mind, I'd appreciate, thanks, thank you (\"kindly\" does not count), or a hedge that \
makes it a suggestion (\"I think you need to ...\", \"perhaps\"). Questions, offers (\"Call me if \
you have any questions.\"), instructions with a purpose (\"To reset it, you need to ...\") and the \
writer's own promises (\"I'll send it ASAP.\") are not flagged either.

Between colleagues a clipped \"Send the report.\" is normal; to a customer it sounds like being \
given orders by someone they pay. Urgency without a reason makes it worse: the reader feels \
pressed and doesn't know why.

Flagged: \"Send the signed contract ASAP.\"

Better: \"Could you please send the signed contract by Thursday? Then we can deliver next week.\"

Turn the order into a question, add please or thanks, and give a date and a reason instead of \
\"ASAP\".",
};

pub(crate) const BLAME: Rule = Rule {
    code: "R106",
    name: "blame",
    default_severity: Severity::Warning,
    explanation: "\
Flags phrases that make the reader the cause of a problem: \"you failed to\", \"you didn't\", \
\"you did not\", \"your mistake\", \"your fault\", \"you forgot\", \"you never\", \"you always\", \
\"you should have\" (done something), \"you were supposed to\", \"why didn't you\", \"why haven't \
you\", \"you keep\" (doing something) and \"your team failed\". Ordinary uses of the same words \
are left alone: conditions and reassurance (\"if you didn't receive it\", \"in case you forgot \
your password\", \"it's not your fault\"), expectations (\"you should have received an email\"), \
gratitude (\"you didn't have to\") and praise (\"you always do great work\").

Even when the customer did make the mistake, a sentence that leads with \"you\" and the failure \
makes them defensive, and the exchange turns to who is right instead of how to fix it.

Flagged: \"You forgot to include the order number.\"

Better: \"The order number didn't come through with your message. Could you send it over?\"

Describe what happened and what happens next; make the problem the subject of the sentence, not \
the person.",
};

pub(crate) const CONDESCENDING: Rule = Rule {
    code: "R109",
    name: "condescending",
    default_severity: Severity::Warning,
    explanation: "\
Flags stock phrases that talk down to the reader: \"even you can\", \"as anyone knows\", \
\"surely you know\", \"it's not rocket science\", \"I shouldn't have to explain\", \"let me spell \
it out\", \"(although) I probably shouldn't be surprised\" and \"no offence, but\" kin. Each of \
these says something about the reader's ability rather than about the matter at hand.

Condescension is the tone customers remember longest: the facts of the message may be right, but \
what the reader takes away is that you think little of them.

Flagged: \"I'm sure even you can follow these steps.\"

Better: \"These steps should get you set up in a few minutes; tell me if any of them doesn't work.\"

Take out the remark about the reader and keep the help; if something really is simple, show it \
by making the steps short.",
};

pub(crate) const SARCASTIC_PRAISE: Rule = Rule {
    code: "R110",
    name: "sarcastic-praise",
    default_severity: Severity::Warning,
    explanation: "\
Flags the stock forms of sarcasm in writing: praise that opens a complaint (\"Great, another \
delay.\", \"Wonderful, more paperwork.\"), \"thanks for nothing\", \"thanks for finally ...\", \
\"what a surprise\", \"must be nice\" and \"yeah, right\". They say the opposite of what is \
meant.

In writing there is no tone of voice to mark sarcasm, so readers either take it literally and are \
confused, or recognise it and feel mocked. With a customer, neither ends well.

Flagged: \"Great, another delay.\"

Better: \"I'm sorry to hear the shipment is delayed again; here is what we are doing about it.\"

Say what you mean, plainly: name the problem and what happens next.",
};

pub(crate) const MISSING_GREETING: Rule = Rule {
    code: "R107",
    name: "missing-greeting",
    default_severity: Severity::Info,
    explanation: "\
Flags, as information, a message of three or more sentences (not counting a greeting line, the \
sign-off and the name under it) whose first sentence is not a greeting. Greetings are salutations \
(\"Hi\", \"Hello\", \"Dear\", \"Hey\", \"Good morning\", \"Good afternoon\", \"Good evening\", \
\"Greetings\", \"Morning\"), an opening thank-you (\"Thanks for ...\", \"Thank you for ...\") and \
the reader's name on its own (\"Maria,\"). Messages of one or two sentences are exempt: a quick \
reply in a running thread does not need one.

A message that starts straight with business can feel abrupt or cold to a customer, especially \
when the news is unwelcome.

Flagged: \"The replacement part is out of stock. We expect it on 12 May. Your order will ship \
then.\"

Better: \"Hi Maria, thanks for your patience. The replacement part is out of stock ...\"

Open with the reader's name or a thank-you; it costs three words.",
};

pub(crate) const MISSING_SIGN_OFF: Rule = Rule {
    code: "R108",
    name: "missing-sign-off",
    default_severity: Severity::Info,
    explanation: "\
Flags, as information, a message of three or more sentences (not counting a greeting line, the \
sign-off and the name under it) with no closing in its last two sentences (a signature name on its \
own line is skipped). Closings include \"Thanks\", \"Thank you\", \"Best\", \"Regards\", \"Kind \
regards\", \"Best regards\", \"Cheers\", \"Sincerely\", \"Talk soon\", \"All the best\", \"Many \
thanks\", \"Warmly\", and invitations such as \"Let me know if you have any questions.\"

A message that stops after the last fact can read like a door closing. A closing line tells the \
customer the conversation is still open and that you are glad to help.

Flagged: \"... The new invoice is attached. The amount due is $240.\"

Better: \"... The new invoice is attached. The amount due is $240. Let me know if anything looks \
wrong. Best regards,\"

End with a thank-you or an invitation to reply.",
};

pub(crate) const NEGATIVE_TONE: Rule = Rule {
    code: "M201",
    name: "negative-tone",
    default_severity: Severity::Info,
    explanation: "\
Reported by rapport's tone model rather than by a fixed rule: a sentence whose overall sentiment \
is clearly negative (75% negative or more; a note, not a warning). The model reads the whole \
sentence, so it catches negativity that no word list does: complaints, bad news delivered flatly, \
grudging wording, sentences without a single negative word.

Some sentences have to be negative (a delay, a refusal, a price rise), but the same news can tell \
the customer what you can do rather than what you can't. Readers give negative wording more weight \
than the writer intended.

Flagged: \"Unfortunately there is nothing we can do about the delay.\"

Better: \"The delay is on the carrier's side; I've asked them to prioritise your parcel and will \
update you by Friday.\"

Lead with what you will do, acknowledge the problem once, and keep the bad news specific. The \
score is a probability: a sentence that must be negative can be sent as it is.",
};

pub(crate) const IMPOLITE_REQUEST: Rule = Rule {
    code: "M202",
    name: "impolite-request",
    default_severity: Severity::Info,
    explanation: "\
Reported by the tone model: a sentence the model takes for a request (\"contains a request\" at \
60% or more) that it also rates as impolite (25% polite or less), using a head trained on requests \
scored for politeness by human annotators. It complements R105: the rule looks for bare \
imperatives and urgency words, the model judges the wording as a whole and also catches requests \
such as \"I expect an answer today.\"

A request asks something of the customer, so its tone matters most; an impolite one makes the \
reader less willing to help and colours how they read the rest of the message.

Flagged: \"I expect the payment to be made today.\"

Better: \"Could you let me know when the payment will go through? We'd like to close the account \
this week.\"

Ask rather than tell, acknowledge the effort, and give the reason.",
};

pub(crate) const UNCIVIL: Rule = Rule {
    code: "M203",
    name: "uncivil",
    default_severity: Severity::Info,
    explanation: "\
Reported by the tone model (v2): a sentence likely to read as condescending or hostile, from the \
heads trained on business mail that people labelled for these tones (models/email-tone) and on \
comments annotated for incivility. It fires at the threshold `rapport calibrate` chose and is a \
note: on labelled business mail it has not yet reached the 60% precision that a warning needs.

Subtle incivility is the commonest way a polite-looking email goes wrong: the writer doesn't \
notice it, and the reader remembers it. The email corpus holds few condescending sentences, so the \
model misses many (see models/README.md); R109 catches the stock phrases whatever the model says.

Flagged: \"Apparently nobody on your side can count.\" (the kind of sentence it is for; the model \
gives this one 30%, under its threshold)

Better: \"The totals in Tuesday's file don't match ours; could we go through them together?\"

Assume good faith, explain instead of judging, and take out remarks about the reader's ability or \
effort.",
};

pub(crate) const SARCASTIC: Rule = Rule {
    code: "M204",
    name: "sarcastic",
    default_severity: Severity::Info,
    explanation: "\
Reported by the tone model (v2): a sentence likely to be read as sarcastic, saying the opposite \
of what is meant, from the heads trained on business mail labelled for sarcasm (models/email-tone) \
and on ironic tweets. It fires at the threshold `rapport calibrate` chose and is a note: sarcasm \
is the hardest tone to read from one sentence, and on labelled business mail the model is barely \
better than chance at it (models/README.md). R110 catches the stock forms (\"Great, another \
delay.\").

In writing there is no tone of voice or face to mark sarcasm, so readers either take it literally \
and are confused, or recognise it and feel mocked. With a customer, neither ends well.

Flagged: \"Thanks so much for the quick reply after two weeks of silence.\" (the kind of sentence \
it is for; the model misses this one)

Better: \"I'm sorry, this is the third faulty part this month. I'm sending a replacement today and \
have asked our quality team to find out why.\"

Say what you mean, plainly.",
};

pub(crate) const NEGATIVE_EMOTION: Rule = Rule {
    code: "M205",
    name: "negative-emotion",
    default_severity: Severity::Info,
    explanation: "\
Reported by the tone model, as information: a sentence that expresses anger, annoyance or \
disapproval (70% or more). Showing a feeling is not wrong in itself, which is why this is not a \
warning, but it helps to see which sentences carry your frustration before the customer does.

Emotion is contagious: a customer who reads annoyance tends to answer in kind, and the problem \
takes longer to solve.

Flagged: \"I'm frankly annoyed that this keeps happening.\"

Better: \"I understand how frustrating this is; here is what we'll change so it doesn't happen \
again.\"

Name the problem rather than your feeling about it, and move on to what happens next; if you are \
angry, let the draft sit for an hour or call instead.",
};

pub(crate) const MISREAD_RISK: Rule = Rule {
    code: "M206",
    name: "misread-risk",
    default_severity: Severity::Warning,
    explanation: "\
The verdict on the message as a whole: the probability that the customer reads it in a worse tone \
than the writer meant. A logistic model over the message's strongest tone scores (curt, \
demanding, passive-aggressive, condescending, sarcastic, blame, hostile, shouting), its negative \
tone, offence, irony, incivility, negative emotion and impolite requests, the rule findings R101 \
to R108 and its length, fitted by `rapport calibrate` on the train split of business mail that \
people labelled (models/email-tone). The finding fires when the risk reaches the threshold chosen \
there, and points at the riskiest sentence. A one-word or verbless fragment cannot reach it from \
the model alone, and non-prose (contact cards, tables, attachment markers) is never scored.

Small problems add up. One slightly negative sentence in a warm message is usually fine, but a \
bare question about the reader's reading, a missing greeting and a curt close together make a \
message that reads as cold or angry even though no single sentence is extreme.

Flagged: \"Do you even read the emails I send you?\"

Better: \"Could you have a look at the summary in my email of Monday? It has the figures you asked \
about.\"

Read the findings listed with it, fix the strongest ones and check again; if in doubt, call.",
};

pub(crate) const CURT_TONE: Rule = Rule {
    code: "M207",
    name: "curt",
    default_severity: Severity::Info,
    explanation: "\
Reported by the tone model (v2): a sentence likely to read as curt, a bare answer or brush-off \
where the reader expects more, learnt from business mail that people labelled \
(models/email-tone). Unlike R103, which looks at a whole reply of a word or two, this reads each \
sentence in context. Whether it is a warning or a note is decided by how often people agreed with \
it on real mail (the model card gives the figures).

Flagged: \"Not my problem.\"

Better: \"That part is handled by our shipping team; I've copied Ana, who can sort it out today.\"

Add a line of context and warmth.",
};

pub(crate) const DEMANDING_TONE: Rule = Rule {
    code: "M208",
    name: "demanding",
    default_severity: Severity::Info,
    explanation: "\
Reported by the tone model (v2): an order or deadline put on the reader with pressure and no \
softener, about something they owe (\"I need this by noon.\", \"Get back to me ASAP.\"), learnt \
from labelled business mail. R105 catches bare imperatives by their form; this reads the pressure \
in any wording.

Flagged: \"I need the signed confirm back today.\"

Better: \"Could you send the signed confirm back today? Our desk closes the deal tonight.\"

Ask rather than order, and give the reason.",
};

pub(crate) const PASSIVE_AGGRESSIVE_TONE: Rule = Rule {
    code: "M209",
    name: "passive-aggressive-tone",
    default_severity: Severity::Info,
    explanation: "\
Reported by the tone model (v2): an indirect rebuke or pointed reminder that implies the reader \
failed, without saying so (\"This is the third time I have asked.\", \"Not sure if you saw my \
earlier note.\"), learnt from labelled business mail. R104 knows the stock phrases (\"per my last \
email\"); this reads the same reproach in other words.

Flagged: \"As I have explained several times already, the form is on page two.\"

Better: \"The form is on page two; I've attached it again to save you looking.\"

Drop the reminder of what they missed and restate what you need, kindly.",
};

pub(crate) const BLAME_TONE: Rule = Rule {
    code: "M210",
    name: "blame-tone",
    default_severity: Severity::Info,
    explanation: "\
Reported by the tone model (v2): a sentence that puts the fault for a problem on the reader or the \
reader's side (\"Because you did not call, we lost the slot.\"), learnt from labelled business \
mail. R106 knows the blunt forms (\"your mistake\"); this reads blame in any wording.

Flagged: \"Your team sent the wrong volumes again.\"

Better: \"The volumes in Tuesday's file don't match our records; could we go through them \
together?\"

Describe what happened and what you will do, not whose fault it was.",
};

pub(crate) const EMAIL_ONLY_ACCOUNT: Rule = Rule {
    code: "C301",
    name: "email-only-account",
    default_severity: Severity::Warning,
    explanation: "\
Reported from the audit state, not from the draft alone: the draft could be misread (it is \
flagged), and the account it goes to has had nothing but email from you in the last 90 days, no \
call and no meeting (the accounts report's \"email only\" verdict). `rapport check` reads the \
state that `rapport audit` fills (`--state`, by default the configured state when it exists) and \
finds the account by the draft's recipients.

A hard message lands harder when email is the only channel: there is no earlier conversation to \
read it against, and no voice to soften it. A five-minute call settles what a tense email thread \
drags out for days.

Flagged: \"You need to sign the renewal today, as I said last week.\" (to an account that has only \
had email for three months)

Better: a call (\"Could we talk for ten minutes today about the renewal?\"), then a short email \
that confirms what you agreed.

Call the contact instead of sending this, and follow up in writing.",
};

pub(crate) const ESCALATION: Rule = Rule {
    code: "C302",
    name: "escalation",
    default_severity: Severity::Warning,
    explanation: "\
Reported from the audit state: the draft answers a kind or neutral message from the customer \
(found by its In-Reply-To or References header among the received mail audited with `rapport \
audit --received`), and it is clearly harsher than that message: the draft is flagged (it has a \
finding at warning level, after your `[check]` tuning and accepted findings), while the message it \
answers was not flagged and read as less than 50% negative.

Matching the other side's tone is what keeps a conversation calm; answering a friendly question \
with a sharp reply is how threads escalate. The customer reads the change of tone, not the \
content.

Flagged: \"As I said, the price list is on our website. Send your order by Friday.\" (answering \
\"Thanks so much for the quick delivery! Could you send us the new price list?\")

Better: \"You're welcome, glad it arrived on time! Here is the new price list; orders placed by \
Friday ship next week.\"

Answer in the tone you were addressed in: thank them, then give the facts.",
};

pub(crate) const UNACKNOWLEDGED_UPSET: Rule = Rule {
    code: "C303",
    name: "unacknowledged-upset",
    default_severity: Severity::Info,
    explanation: "\
Reported from the audit state, as a note: the draft answers a customer message that reads as upset \
(the tone model found it flagged or mostly negative), and nothing in the draft acknowledges the \
problem: no apology, no \"I understand\", no \"thanks for letting us know\", no \"that should not \
have happened\".

An upset customer first wants to know they were heard. A reply that goes straight to the \
solution, however good, reads as if the complaint was not read, and the next message is usually \
angrier.

Flagged: \"The replacement ships on Monday.\" (answering \"The parts arrived broken, again, and \
nobody called me back.\")

Better: \"I'm sorry the parts arrived broken again, and that nobody called you back. The \
replacement ships on Monday, and I'll call you when it leaves.\"

Start with one sentence that names the problem and owns it, then give the solution.",
};

pub(crate) const HARSHER_THAN_USUAL: Rule = Rule {
    code: "C304",
    name: "harsher-than-usual",
    default_severity: Severity::Info,
    explanation: "\
Reported from the audit state, as a note: the draft's misread risk is well above the 95th \
percentile of the risk of your own past mail to the same account (at least 10 audited messages): \
at least one and a half times it, and at least 5 points above it. It compares you with yourself: a \
draft can pass every rule and still be much sharper than what this customer is used to from you.

Customers notice a change of tone more than the tone itself. A message that would be normal from \
someone else reads as a sign that something is wrong when it comes from someone who is usually \
warm.

Flagged: \"The invoice is overdue. Pay it this week.\" (to a customer you usually write to warmly)

Better: \"Hi Sam, a quick note that the March invoice is still open; could you have a look this \
week? Thanks!\"

Read the draft as this customer would, next to your last few emails to them.",
};

/// Every code rapport reports, rules first, in code order.
pub const RULES: &[Rule] = &[
    SHOUTING,
    PILED_PUNCTUATION,
    CURT_REPLY,
    PASSIVE_AGGRESSIVE,
    UNSOFTENED_DEMAND,
    BLAME,
    MISSING_GREETING,
    MISSING_SIGN_OFF,
    CONDESCENDING,
    SARCASTIC_PRAISE,
    NEGATIVE_TONE,
    IMPOLITE_REQUEST,
    UNCIVIL,
    SARCASTIC,
    NEGATIVE_EMOTION,
    MISREAD_RISK,
    CURT_TONE,
    DEMANDING_TONE,
    PASSIVE_AGGRESSIVE_TONE,
    BLAME_TONE,
    EMAIL_ONLY_ACCOUNT,
    ESCALATION,
    UNACKNOWLEDGED_UPSET,
    HARSHER_THAN_USUAL,
];

/// The whole catalogue as Markdown: the content of `docs/rules.md`.
pub fn catalogue_markdown() -> String {
    let mut md = String::from(
        "# rapport finding codes\n\n\
         <!-- Generated from src/rules/catalogue.rs; do not edit by hand. Regenerate with\n     \
         RAPPORT_UPDATE_DOCS=1 cargo test -p rapport-core --lib rules -->\n\n\
         Every finding `rapport check` reports carries one of these codes. Codes never change meaning\n\
         once released. `rapport explain CODE` (or the name, e.g. `rapport explain shouting`) prints\n\
         the same text in the terminal.\n\n\
         `R1xx` codes come from fixed rules: they point at the exact words and always fire on the same\n\
         text. `M2xx` codes come from rapport's tone model: they judge whole sentences and come with a\n\
         probability. `C3xx` codes come from the context in the audit state: the account the draft\n\
         goes to and the message it answers. Each finding's severity (info, warning, error) is shown below as its default;\n\
         `rapport check --fail-on` chooses which severities make the check fail.\n\n\
         | Code | Name | Default severity | Source |\n|---|---|---|---|\n",
    );
    for r in RULES {
        let source = match r.code.as_bytes()[0] {
            b'R' => "rule",
            b'C' => "context",
            _ => "tone model",
        };
        md.push_str(&format!(
            "| [{code}](#{anchor}) | {name} | {sev} | {source} |\n",
            code = r.code,
            anchor = format!("{}-{}", r.code, r.name).to_lowercase(),
            name = r.name,
            sev = r.default_severity.as_str(),
        ));
    }
    for r in RULES {
        md.push_str(&format!(
            "\n## {} {}\n\nDefault severity: **{}**.\n\n{}\n",
            r.code,
            r.name,
            r.default_severity.as_str(),
            r.explanation
        ));
    }
    md
}

/// A stored finding, as written by [`Finding`]'s `Serialize`.
#[derive(serde::Deserialize)]
struct StoredFinding {
    code: String,
    severity: Severity,
    message: String,
    #[serde(default)]
    suggestion: Option<String>,
    span: StoredSpan,
    sentence: usize,
}

/// `[start, end]`, or `{"start", "end"}` as states of schema 1 wrote it.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum StoredSpan {
    Pair([usize; 2]),
    Range(std::ops::Range<usize>),
}

impl<'de> serde::Deserialize<'de> for crate::findings::Finding {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = StoredFinding::deserialize(d)?;
        let rule = RULES
            .iter()
            .find(|r| r.code == s.code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown finding code {:?}", s.code)))?;
        Ok(crate::findings::Finding {
            code: rule.code,
            name: rule.name,
            severity: s.severity,
            message: s.message,
            suggestion: s.suggestion,
            span: match s.span {
                StoredSpan::Pair([a, b]) => a..b,
                StoredSpan::Range(r) => r,
            },
            sentence: s.sentence,
        })
    }
}
