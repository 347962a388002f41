"""Attestation chains are validated as RFC 5280 paths, and each failure has its reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pkconf.tenant.attestation import AttestationFailure, validate_chain

from . import pki
from .pki import AT


def _reason(trust_path: list[bytes], roots: list[bytes], at: datetime = AT) -> str:
    with pytest.raises(AttestationFailure) as failure:
        validate_chain(trust_path, roots, at)
    return failure.value.reason


@pytest.fixture(scope="module")
def root() -> pki.Issued:
    return pki.root()


@pytest.fixture(scope="module")
def intermediate(root: pki.Issued) -> pki.Issued:
    return pki.intermediate(root)


@pytest.fixture(scope="module")
def leaf(intermediate: pki.Issued) -> pki.Issued:
    return pki.issue(pki.name("pkconf TEST Batch"), intermediate)


def test_leaf_and_intermediate_chaining_to_a_given_root_validate(leaf, intermediate, root) -> None:
    validate_chain([leaf.der, intermediate.der], [root.der], AT)  # raises on failure


def test_leaf_issued_directly_by_a_given_root_validates(root) -> None:
    validate_chain([pki.issue(pki.name("pkconf TEST Direct"), root).der], [root.der], AT)


def test_lone_leaf_that_is_itself_the_given_root_is_trusted_directly() -> None:
    batch = pki.issue(pki.name("pkconf TEST Self-signed batch"), ca=False)
    validate_chain([batch.der], [batch.der], AT)


@pytest.mark.parametrize(
    "at", [pki.NOT_BEFORE - timedelta(days=1), pki.NOT_AFTER + timedelta(days=1)],
    ids=["not-yet-valid", "expired"])
def test_leaf_outside_its_validity_is_rejected_as_certificate_expired(leaf, intermediate, root,
                                                                      at: datetime) -> None:
    assert _reason([leaf.der, intermediate.der], [root.der], at) == \
        "ATTESTATION_CERTIFICATE_EXPIRED"


def test_expired_intermediate_is_rejected_as_certificate_expired(root) -> None:
    old = pki.intermediate(root, not_after=datetime(2029, 1, 1, tzinfo=UTC))
    leaf = pki.issue(pki.name("pkconf TEST Batch"), old)
    assert _reason([leaf.der, old.der], [root.der]) == "ATTESTATION_CERTIFICATE_EXPIRED"


def test_expired_root_is_rejected_as_certificate_expired() -> None:
    old_root = pki.root(not_after=datetime(2029, 1, 1, tzinfo=UTC))
    leaf = pki.issue(pki.name("pkconf TEST Batch"), old_root)
    assert _reason([leaf.der], [old_root.der]) == "ATTESTATION_CERTIFICATE_EXPIRED"


def test_chain_in_the_wrong_order_is_rejected_as_chain_invalid(leaf, intermediate, root) -> None:
    assert _reason([intermediate.der, leaf.der], [root.der]) == "ATTESTATION_CHAIN_INVALID"


def test_chain_that_includes_the_root_is_rejected_as_chain_invalid(leaf, intermediate,
                                                                   root) -> None:
    assert _reason([leaf.der, intermediate.der, root.der], [root.der]) == \
        "ATTESTATION_CHAIN_INVALID"


def test_chain_ending_in_an_unlisted_self_signed_root_is_rejected_as_chain_invalid(
        leaf, intermediate, root) -> None:
    other_root = pki.root("pkconf TEST Other root")
    assert _reason([leaf.der, intermediate.der, root.der], [other_root.der]) == \
        "ATTESTATION_CHAIN_INVALID"


@pytest.mark.parametrize("ca_flag", [False, None], ids=["ca-false", "no-basic-constraints"])
def test_intermediate_that_is_not_a_ca_is_rejected_as_chain_invalid(root, ca_flag) -> None:
    not_ca = pki.intermediate(root, ca=ca_flag, key_cert_sign=None)
    leaf = pki.issue(pki.name("pkconf TEST Batch"), not_ca)
    assert _reason([leaf.der, not_ca.der], [root.der]) == "ATTESTATION_CHAIN_INVALID"


def test_intermediate_whose_key_usage_lacks_key_cert_sign_is_rejected_as_chain_invalid(
        root) -> None:
    no_sign = pki.intermediate(root, key_cert_sign=False)
    leaf = pki.issue(pki.name("pkconf TEST Batch"), no_sign)
    assert _reason([leaf.der, no_sign.der], [root.der]) == "ATTESTATION_CHAIN_INVALID"


def test_path_longer_than_the_roots_path_length_is_rejected_as_chain_invalid() -> None:
    strict_root = pki.root(path_length=0)
    first = pki.intermediate(strict_root, "pkconf TEST Intermediate 1")
    second = pki.intermediate(first, "pkconf TEST Intermediate 2")
    leaf = pki.issue(pki.name("pkconf TEST Batch"), second)
    assert _reason([leaf.der, second.der, first.der], [strict_root.der]) == \
        "ATTESTATION_CHAIN_INVALID"


def test_chain_to_no_given_root_is_rejected_as_untrusted(leaf, intermediate) -> None:
    assert _reason([leaf.der, intermediate.der], [pki.root("pkconf TEST Stranger").der]) == \
        "ATTESTATION_UNTRUSTED"


def test_chain_with_no_roots_at_all_is_rejected_as_untrusted(leaf, intermediate) -> None:
    assert _reason([leaf.der, intermediate.der], []) == "ATTESTATION_UNTRUSTED"


def test_root_impostor_with_the_right_name_but_another_key_is_rejected_as_untrusted(
        leaf, intermediate) -> None:
    impostor = pki.root()  # same subject as the real root, different key
    assert _reason([leaf.der, intermediate.der], [impostor.der]) == "ATTESTATION_UNTRUSTED"


@pytest.mark.parametrize("path", [[], [b""], [b"\x30\x03\x02\x01\x01"], [b"not a certificate"]],
                         ids=["empty", "empty-bytes", "truncated-der", "garbage"])
def test_malformed_trust_path_is_a_clean_rejection(root, path: list[bytes]) -> None:
    expected = "ATTESTATION_CHAIN_INVALID" if not path else "ATTESTATION_CERTIFICATE_INVALID"
    assert _reason(path, [root.der]) == expected


def test_unreadable_root_among_the_given_roots_is_ignored(leaf, intermediate, root) -> None:
    validate_chain([leaf.der, intermediate.der], [b"not a certificate", root.der], AT)


def test_a_chain_that_validated_once_is_still_refused_outside_its_validity(
        leaf, intermediate, root) -> None:
    """Validated chains are remembered with their validity period, never beyond it."""
    validate_chain([leaf.der, intermediate.der], [root.der], AT)
    assert _reason([leaf.der, intermediate.der], [root.der], pki.NOT_AFTER + timedelta(days=1)) \
        == "ATTESTATION_CERTIFICATE_EXPIRED"
    validate_chain([leaf.der, intermediate.der], [root.der], AT + timedelta(days=1))
