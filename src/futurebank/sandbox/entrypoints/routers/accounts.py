"""Accounts: listAccounts, getAccount, getAccountBalances, listTransactions, getTransaction."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from futurebank.sandbox.entrypoints import representations as rep
from futurebank.sandbox.entrypoints.auth import authenticate
from futurebank.sandbox.entrypoints.deps import container, correlation_id
from futurebank.sandbox.entrypoints.routers.common import links_for, position_datetime, self_link
from futurebank.sandbox.entrypoints.validation import (
    only_query,
    path_uuid,
    query_cursor,
    query_datetime,
    query_enum,
    query_limit,
)
from futurebank.sandbox.service_layer import handlers as h

router = APIRouter()


@router.get("/accounts", operation_id="listAccounts")
async def list_accounts(request: Request) -> Response:
    c = container(request)
    actor = authenticate(request, c.tokens, "accounts:read").actor(correlation_id(request))
    only_query(request)
    now = c.clock()
    accounts = await c.call(lambda uow: h.list_accounts(uow, actor, now))
    return rep.json_response(rep.page([rep.account(a) for a in accounts], self_link(request)))


@router.get("/accounts/{account_id}", operation_id="getAccount")
async def get_account(request: Request, account_id: str) -> Response:
    c = container(request)
    actor = authenticate(request, c.tokens, "accounts:read").actor(correlation_id(request))
    only_query(request)
    aid = path_uuid("account_id", account_id)
    now = c.clock()
    account = await c.call(lambda uow: h.get_account(uow, actor, aid, now))
    return rep.json_response(rep.account(account))


@router.get("/accounts/{account_id}/balances", operation_id="getAccountBalances")
async def get_account_balances(request: Request, account_id: str) -> Response:
    c = container(request)
    actor = authenticate(request, c.tokens, "accounts:read").actor(correlation_id(request))
    only_query(request)
    aid = path_uuid("account_id", account_id)
    now = c.clock()
    account = await c.call(lambda uow: h.get_balances(uow, actor, aid, now))
    return rep.json_response(rep.page(rep.balances(account, now), self_link(request)))


@router.get("/accounts/{account_id}/transactions", operation_id="listTransactions")
async def list_transactions(request: Request, account_id: str) -> Response:
    c = container(request)
    actor = authenticate(request, c.tokens, "transactions:read").actor(correlation_id(request))
    only_query(request, "booked_from", "booked_to", "credit_debit_indicator", "limit", "cursor")
    aid = path_uuid("account_id", account_id)
    booked_from = query_datetime(request, "booked_from")
    booked_to = query_datetime(request, "booked_to")
    indicator = query_enum(request, "credit_debit_indicator", ("CRDT", "DBIT"))
    limit = query_limit(request)
    # The cursor is bound to the account, the filters and the caller: it cannot be replayed elsewhere.
    window = f"{booked_from.isoformat() if booked_from else ''}:{booked_to.isoformat() if booked_to else ''}"
    collection = f"txn:{aid}:{window}:{indicator or ''}:{actor.customer_id}:{actor.client_id}"
    after = position_datetime(c, collection, query_cursor(request))
    if after is not None and not isinstance(after[1], int):  # pragma: no cover - guarded by the MAC
        after = None
    query = h.TransactionQuery(
        booked_from=booked_from,
        booked_to=booked_to,
        indicator=indicator,
        after=(after[0], int(after[1])) if after else None,
        limit=limit,
    )
    now = c.clock()
    rows, more = await c.call(lambda uow: h.list_transactions(uow, actor, aid, query, now))
    cursor = c.cursors.encode(collection, [rows[-1].booked_at.isoformat(), rows[-1].seq]) if more else None
    self_href, next_href = links_for(request, cursor)
    return rep.json_response(rep.page([rep.transaction(t) for t in rows], self_href, next_href))


@router.get("/accounts/{account_id}/transactions/{transaction_id}", operation_id="getTransaction")
async def get_transaction(request: Request, account_id: str, transaction_id: str) -> Response:
    c = container(request)
    actor = authenticate(request, c.tokens, "transactions:read").actor(correlation_id(request))
    only_query(request)
    aid = path_uuid("account_id", account_id)
    tid = path_uuid("transaction_id", transaction_id)
    now = c.clock()
    row = await c.call(lambda uow: h.get_transaction(uow, actor, aid, tid, now))
    return rep.json_response(rep.transaction(row))
