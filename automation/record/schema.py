"""The store's tables (SQLAlchemy Core). The store is the truth; files are renderings.

Money is kept as integer fen (``Money``) so sums are exact in SQL on SQLite and
PostgreSQL alike; times are timezone-aware ISO text.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData()


class Money(TypeDecorator):
    """Decimal yuan in Python, integer fen in the database (64-bit: PostgreSQL's INTEGER would stop at 2,147 万元)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return int((Decimal(value) * 100).quantize(Decimal(1)))

    def process_result_value(self, value, dialect):
        return None if value is None else (Decimal(value) / 100).quantize(Decimal("0.01"))


class DecimalText(TypeDecorator):
    """Exact decimals (quantities) as text."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else format(Decimal(value), "f")

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(value)


class AwareDateTime(TypeDecorator):
    """Timezone-aware datetimes as ISO-8601 text (sortable, portable)."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError("store times must be timezone-aware datetimes")
        return value.isoformat(timespec="microseconds")

    def process_result_value(self, value, dialect):
        return None if value is None else datetime.fromisoformat(value)


def _now_col(name: str, nullable: bool = False) -> Column:
    return Column(name, AwareDateTime(), nullable=nullable)


schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    _now_col("applied_at"),
)

# One row per file that entered inbox/. status: received → moving → archived | returned | quarantined
submissions = Table(
    "submissions", metadata,
    Column("id", Integer, primary_key=True),
    Column("original_path", Text, nullable=False),  # relative to inbox/
    Column("name", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    _now_col("seen_at"),
    _now_col("stable_at", nullable=True),
    Column("status", String(20), nullable=False),
    Column("outcome", String(20)),  # archived | returned | quarantined (final)
    Column("dest_path", Text),  # relative to the workspace root
    Column("extra_path", Text),  # the annotated copy or reason file that accompanies it
    Column("reason_code", String(60)),
    Column("reason", Text),
    Column("problems", Text),  # JSON list of problem dicts, to rebuild an annotated copy after a crash
    Column("duplicate_of", Integer),
    Column("attempts", Integer, nullable=False, default=1),  # runs that started on it (a crash-loop guard)
    Column("form_id", String(60)),
    Column("form_version", String(20)),
    Column("case_id", Integer),
    _now_col("updated_at"),
)
Index("ix_submissions_sha", submissions.c.sha256)
Index("ix_submissions_status", submissions.c.status)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True),
    _now_col("at"),
    Column("actor", Text, nullable=False),
    Column("action", String(60), nullable=False),
    Column("subject", Text),
    Column("detail", Text),  # canonical JSON
    Column("file", Text),
    Column("file_hash", String(64)),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
# A decision file is checked against what was decided or refused for its bytes before
# (decide/scan): without this index each check scans the whole log (schema step 10).
Index("ix_audit_file_hash", audit_log.c.file_hash)

counters = Table(
    "counters", metadata,
    Column("name", String(60), primary_key=True),
    Column("period", String(20), primary_key=True),
    Column("value", Integer, nullable=False),
)

# A case is one request travelling through its approval chain.
# status: in_approval | approved | rejected | returned | blocked
cases = Table(
    "cases", metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(40), nullable=False, unique=True),
    Column("form_id", String(60), nullable=False),
    Column("form_version", String(20)),
    Column("form_title", Text),
    Column("file_kind", String(10)),
    Column("applicant", Text),
    Column("department", Text),
    Column("amount", Money()),
    Column("customer", Text),
    Column("status", String(20), nullable=False),
    Column("round", Integer, nullable=False, default=1),
    Column("data", Text, nullable=False),  # codec JSON of the typed values
    Column("fingerprint", String(64), nullable=False),
    Column("warnings", Text),  # JSON list of problem dicts
    Column("cc", Text),  # JSON list of names on 抄送, copied once the case is approved
    Column("source_file", Text),  # archived original, relative to root
    Column("submission_id", Integer, ForeignKey("submissions.id")),
    Column("block_reason", Text),
    Column("dedup", String(20)),  # 审批人去重 in force when the case was routed (schema step 5)
    _now_col("created_at"),
    _now_col("updated_at"),
    _now_col("decided_at", nullable=True),
)
Index("ix_cases_status", cases.c.status)
Index("ix_cases_form", cases.c.form_id)

# One task per approver per step. status: waiting (later step) | open | approved | rejected |
# returned | cancelled (或签 closed by another, case ended) | escalated (handed to the superior)
tasks = Table(
    "tasks", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False),
    Column("round", Integer, nullable=False),
    Column("step_index", Integer, nullable=False),
    Column("role", Text, nullable=False),
    Column("mode", String(10), nullable=False),
    Column("assignee", Text, nullable=False),
    Column("on_behalf_of", Text),
    Column("status", String(20), nullable=False),
    Column("limit_days", Integer),
    _now_col("opened_at", nullable=True),
    Column("due_on", Date),
    _now_col("decided_at", nullable=True),
    Column("decision", String(10)),
    Column("comment", Text),
    Column("file_path", Text),  # relative to root
    Column("fingerprint", String(64)),
    Column("file_stamp", String(60)),  # size and mtime as written: an unchanged file holds no cell decision
    _now_col("reminded_at", nullable=True),
    Column("escalated_from", Integer),
    Column("rule_ref", Text),
    # Approver actions (schema step 5). origin: None (from the route) | transfer | sign-before | sign-back |
    # sign-after | rerun (退回到 an earlier step) | empty-pass | empty-admin; origin_task: the task it came from.
    Column("origin", String(20)),
    Column("origin_task", Integer),
    Column("wait_for", Integer),  # a waiting task opened only once this task is approved (前加签)
    Column("decided_by", Text),  # None: the assignee; OfficeFlow for an automatic approval
    Column("target", Text),  # 转交给 / 加签人, or the step 退回到 goes back to, as shown to people
    Column("return_to", Integer),  # 退回到: the step index the case went back to
    Column("why", Text),  # JSON: the 审批规则 rows that put this step on the chain, with the values
)
Index("ix_tasks_case", tasks.c.case_id)
Index("ix_tasks_status", tasks.c.status)

contracts = Table(
    "contracts", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False, unique=True),
    Column("number", String(40), nullable=False, unique=True),
    Column("year", Integer, nullable=False),
    Column("customer", Text),
    Column("amount", Money()),
    Column("contract_type", Text),
    Column("signed_on", Date),
    Column("delivery_on", Date),
    Column("ship_due_on", Date),
    Column("payment", Text),
    Column("approved_on", Date),
    Column("approvers", Text),
    Column("status", String(20), nullable=False),  # 待生成 | 已生成 | 生成失败
    Column("file_path", Text),
    Column("render_error", Text),
    Column("items", Text),  # codec JSON of the line items (for returns)
    _now_col("created_at"),
)

customers = Table(
    "customers", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("norm_name", Text, nullable=False),
    Column("credit_code", String(18)),
    Column("customer_type", Text),
    Column("grade", String(4)),
    Column("owner", Text),
    Column("department", Text),
    Column("region", Text),
    Column("contact", Text),
    Column("phone", Text),
    Column("credit_limit", Money()),
    Column("terms_days", Integer),
    Column("credit_grade", String(4)),
    Column("review_due", Date),
    Column("status", String(20), nullable=False, default="正常"),
    Column("registered_on", Date),
    Column("last_active_on", Date),
    Column("case_id", Integer),
)
Index("ix_customers_norm", customers.c.norm_name)
Index("ix_customers_code", customers.c.credit_code)

# Open receivables per customer and contract: + contract on 账期, − write-off or return.
receivables = Table(
    "receivables", metadata,
    Column("id", Integer, primary_key=True),
    Column("customer", Text, nullable=False),
    Column("contract_number", String(40)),
    Column("amount", Money(), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("case_id", Integer),
    Column("on", Date),
)
Index("ix_receivables_customer", receivables.c.customer)

expense_lines = Table(
    "expense_lines", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, nullable=False),
    Column("claim_number", String(40)),
    Column("claimant", Text),
    Column("department", Text),
    Column("category", Text),
    Column("occurred_on", Date),
    Column("amount", Money()),
    Column("month", String(7)),
    Column("status", String(20), nullable=False),  # 审批中 | 已批准 | 已驳回
)
Index("ix_expense_dept_month", expense_lines.c.department, expense_lines.c.month)

trips = Table(
    "trips", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, nullable=False, unique=True),
    Column("number", String(40), nullable=False),
    Column("applicant", Text),
    Column("department", Text),
    Column("destination", Text),
    Column("start_on", Date),
    Column("end_on", Date),
    Column("status", String(20), nullable=False),
)

complaints = Table(
    "complaints", metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(40), nullable=False, unique=True),
    Column("case_id", Integer),
    Column("customer", Text),
    Column("complaint_type", Text),
    Column("severity", Text),
    Column("complained_on", Date),
    Column("reply_due", Date),
    Column("department", Text),
    Column("dept_passed_on", Date),
    Column("dept_reply_due", Date),
    Column("plan_done_on", Date),
    Column("revisit_due", Date),
    Column("revisits", Integer, default=0),
    Column("satisfaction", Text),
    Column("status", String(20), nullable=False),
    Column("closed_on", Date),
    Column("reopens", Integer, default=0),  # times an unsatisfied customer sent it back to 重新调查
    Column("reopened_on", Date),  # the day the clocks last restarted
)

return_lines = Table(
    "return_lines", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, nullable=False),
    Column("number", String(40)),
    Column("contract_number", String(40)),
    Column("product", Text),
    Column("quantity", DecimalText()),  # negative: a red row netted against the contract
    Column("reason", Text),
    Column("status", String(20), nullable=False),
)

bad_debts = Table(
    "bad_debts", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, nullable=False, unique=True),
    Column("number", String(40)),
    Column("customer", Text),
    Column("contract_number", String(40)),
    Column("amount", Money()),
    Column("shares", Text),  # JSON: [{"人员":…, "角色":…, "比例":…, "金额":…}]
    Column("status", String(20), nullable=False),
)

# Which registers need rendering, and why one is still pending (locked file…).
register_state = Table(
    "register_state", metadata,
    Column("name", String(40), primary_key=True),
    Column("dirty", Boolean, nullable=False, default=True),
    _now_col("dirty_since", nullable=True),
    _now_col("rendered_at", nullable=True),
    Column("rows", Integer),
    Column("attempts", Integer, nullable=False, default=0),
    _now_col("next_try_at", nullable=True),
    Column("last_error", Text),
    # Incremental renders (schema step 9, registers.incremental): the row keys marked since the
    # last claim ("12,15"; NULL: unknown, render in full) and the number of that claim.
    Column("row_keys", Text),
    Column("generation", Integer),
)

# Output files written once per event (returned copies, 抄送 copies): the marker keeps a
# copy the person has already taken away from being written again on the next pass.
outputs = Table(
    "outputs", metadata,
    Column("kind", String(30), primary_key=True),
    Column("key", String(120), primary_key=True),
    Column("path", Text),
    _now_col("at"),
)

# Things the administrator must see in `officeflow status`.
alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True),
    _now_col("at"),
    Column("kind", String(40), nullable=False),
    Column("subject", Text),
    Column("message", Text, nullable=False),
    Column("resolved", Boolean, nullable=False, default=False),
)


# Every policy workbook that passed the checks, so the last good one survives a restart
# even when 制度.xlsx is broken at start-up.
policy_versions = Table(
    "policy_versions", metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("content", LargeBinary, nullable=False),
    _now_col("stored_at"),
)


# --- the applicant's side ------------------------------------------------------------

# The receipt (回执) each applicant has per case: where it lies now and which state of
# the case it shows, so a change of state rewrites (and renames) that one file.
receipts = Table(
    "receipts", metadata,
    Column("case_id", Integer, primary_key=True),
    Column("person", Text),
    Column("path", Text),  # relative to the workspace root
    Column("version", Text),  # the case state it renders; differs → rewrite
    _now_col("at"),
)

# 撤回 and 催办 asked for by applicants by moving their receipt, one row per gesture file.
applicant_requests = Table(
    "applicant_requests", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer),
    Column("kind", String(20), nullable=False),  # withdraw | remind
    Column("person", Text),
    Column("file_hash", String(64)),
    Column("file", Text),
    Column("accepted", Boolean, nullable=False),
    Column("reason", Text),
    Column("on", Date),  # the working day a reminder counts for
    _now_col("at"),
)
Index("ix_applicant_requests_case", applicant_requests.c.case_id, applicant_requests.c.kind)

# E-mail notices waiting to go out; a failed send stays here and is retried with back-off.
mail_outbox = Table(
    "mail_outbox", metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(160), nullable=False, unique=True),  # one mail per event, never two
    Column("recipient", Text, nullable=False),
    Column("address", Text),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(20), nullable=False),  # pending | sent | no-address
    Column("attempts", Integer, nullable=False, default=0),
    _now_col("next_try_at", nullable=True),
    Column("last_error", Text),
    _now_col("created_at"),
    _now_col("sent_at", nullable=True),
)

# --- forms declared in their spec, loans, customer state (issue 14) ---------------------

# A form's own register, as its spec declares it (plain JSON), so the store alone can render it.
form_registers = Table(
    "form_registers", metadata,
    Column("name", String(60), primary_key=True),
    Column("form_id", String(60), nullable=False),
    Column("definition", Text, nullable=False),
    _now_col("updated_at"),
)

# One row per case of a form with a declared register: column header → value (codec JSON).
form_records = Table(
    "form_records", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False, unique=True),
    Column("form_id", String(60), nullable=False),
    Column("register", String(60), nullable=False),
    Column("number", String(40)),
    Column("data", Text, nullable=False),
    Column("status", String(20), nullable=False),  # 审批中 | 已批准 | 已驳回 | 退回修改
)
Index("ix_form_records_register", form_records.c.register)

# F10 借款单: an approved loan, settled (冲借款) by expense claims that name it.
loans = Table(
    "loans", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, nullable=False, unique=True),
    Column("number", String(40), nullable=False, unique=True),
    Column("borrower", Text),
    Column("department", Text),
    Column("loan_type", Text),
    Column("amount", Money(), nullable=False),
    Column("lent_on", Date),
    Column("due_on", Date),
    Column("status", String(20), nullable=False),  # 未还清 | 已还清
)

loan_settlements = Table(
    "loan_settlements", metadata,
    Column("id", Integer, primary_key=True),
    Column("loan_number", String(40), nullable=False),
    Column("case_id", Integer, nullable=False, unique=True),  # the expense claim that settled it
    Column("claim_number", String(40)),
    Column("amount", Money(), nullable=False),
    Column("on", Date),
)
Index("ix_loan_settlements_loan", loan_settlements.c.loan_number)

# F13 客户状态变更单: every change of a customer's state, with its case and reason.
customer_status_history = Table(
    "customer_status_history", metadata,
    Column("id", Integer, primary_key=True),
    Column("customer", Text, nullable=False),
    Column("old_status", String(20)),
    Column("new_status", String(20), nullable=False),
    Column("case_id", Integer),
    Column("number", String(40)),
    Column("reason", Text),
    Column("on", Date),
)
Index("ix_customer_status_history_customer", customer_status_history.c.customer)


# --- several workers on one PostgreSQL (issue 16) ---------------------------------------

# One row per piece of work a worker has claimed (an inbox file, a decision file, a content or
# file name being filed): made or taken over in one ``INSERT … ON CONFLICT DO UPDATE … WHERE``
# (free, ours, or expired), held by a lease the holder renews while it works.
# A worker that dies stops renewing; once ``expires`` (the database's clock, epoch seconds)
# has passed, another worker claims the work and finishes it from its submission row.
claims = Table(
    "claims", metadata,
    Column("kind", String(20), primary_key=True),
    Column("key", String(500), primary_key=True),
    Column("holder", String(120)),
    Column("expires", Float, nullable=False, default=0.0),
)
Index("ix_claims_holder", claims.c.holder)
