"""Accounts: listAccounts, getAccount, getAccountBalances, listTransactions, getTransaction."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from futurebank.sandbox.domain import queries as q
from futurebank.sandbox.entrypoints import representations as rep
from futurebank.sandbox.entrypoints.toolkit import AccountId, ApiCall, TransactionId, TransactionsCall

router = APIRouter()


@router.get("/accounts", operation_id="listAccounts")
async def list_accounts(call: ApiCall) -> Response:
    accounts = await call.handle(q.ListAccounts())
    return call.page([rep.account(a) for a in accounts])


@router.get("/accounts/{account_id}", operation_id="getAccount")
async def get_account(call: ApiCall, account_id: AccountId) -> Response:
    return call.json(rep.account(await call.handle(q.GetAccount(account_id))))


@router.get("/accounts/{account_id}/balances", operation_id="getAccountBalances")
async def get_account_balances(call: ApiCall, account_id: AccountId) -> Response:
    return call.page(rep.balances(await call.handle(q.GetAccountBalances(account_id)), call.now()))


@router.get("/accounts/{account_id}/transactions", operation_id="listTransactions")
async def list_transactions(call: TransactionsCall, account_id: AccountId) -> Response:
    f = call.query
    # The cursor is bound to the account, the filters and the caller: it cannot be replayed elsewhere.
    window = ":".join(d.isoformat() if d else "" for d in (f.booked_from, f.booked_to))
    caller = f"{call.actor.customer_id}:{call.actor.client_id}"
    collection = f"txn:{account_id}:{window}:{f.credit_debit_indicator or ''}:{caller}"
    after = call.after(collection)
    query = q.ListTransactions(
        account_id,
        booked_from=f.booked_from,
        booked_to=f.booked_to,
        indicator=f.credit_debit_indicator,
        after=(after[0], int(after[1])) if after else None,
        limit=f.limit,
    )
    rows, more = await call.handle(query)
    last = [rows[-1].booked_at.isoformat(), rows[-1].seq] if more else None
    return call.page([rep.transaction(t) for t in rows], collection, last)


@router.get("/accounts/{account_id}/transactions/{transaction_id}", operation_id="getTransaction")
async def get_transaction(call: ApiCall, account_id: AccountId, transaction_id: TransactionId) -> Response:
    return call.json(rep.transaction(await call.handle(q.GetTransaction(account_id, transaction_id))))
