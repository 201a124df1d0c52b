"""Play tokens: a signed token verifies to its entry; anything else is refused."""

from __future__ import annotations

import pytest

from seerbridge.library.tokens import new_secret, sign, verify


def test_a_signed_token_names_its_entry() -> None:
    secret = new_secret()
    assert verify(sign(42, secret), secret) == 42


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character of the signature changed
        lambda t: "43" + t[2:],  # another entry with this entry's signature
        lambda t: t.split(".")[0],  # no signature
        lambda t: "042." + t.split(".")[1],  # leading zero
        lambda t: "",
        lambda t: "..",
        lambda t: "x." + t.split(".")[1],
        lambda t: "9" * 40 + "." + t.split(".")[1],
    ],
)
def test_a_forged_token_is_refused(forge) -> None:  # type: ignore[no-untyped-def]
    secret = new_secret()
    assert verify(forge(sign(42, secret)), secret) is None


def test_another_installations_secret_refuses_the_token() -> None:
    assert verify(sign(42, new_secret()), new_secret()) is None
