import secrets

import pytest

from licensing import keys


def test_a_generated_key_has_seven_groups_of_five_after_qb():
    key = keys.generate()
    assert key.startswith("QB-")
    groups = key.split("-")[1:]
    assert [len(group) for group in groups] == [5] * 7
    assert set("".join(groups)) <= set(keys.ALPHABET)


def test_a_key_carries_at_least_128_secret_bits_beyond_its_public_prefix():
    secret_symbols = keys.RANDOM_SYMBOLS - keys.GROUP
    assert secret_symbols * 5 >= 128


def test_generated_keys_are_distinct():
    assert len({keys.generate() for _ in range(2000)}) == 2000


def test_normalise_accepts_lower_case_spaces_and_confusable_letters():
    key = keys.generate()
    sloppy = key.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert keys.normalise(sloppy) == key
    assert keys.normalise(key.replace("-", "")) == key


@pytest.mark.parametrize("symbol", range(keys.BODY_LENGTH))
def test_every_single_symbol_typo_is_rejected_before_any_lookup(symbol):
    key = keys.generate()
    # Skip the "QB-" prefix and the dash after each group of five: every symbol, no dash.
    position = len(keys.PREFIX) + 1 + symbol + symbol // keys.GROUP
    assert key[position] in keys.ALPHABET
    for replacement in keys.ALPHABET:
        if replacement == key[position]:
            continue
        typo = key[:position] + replacement + key[position + 1 :]
        with pytest.raises(keys.InvalidKey):
            keys.normalise(typo)


def test_most_swapped_neighbours_are_rejected():
    caught = total = 0
    for _ in range(300):
        body = keys.normalise(keys.generate()).replace("-", "")[2:]
        i = secrets.randbelow(len(body) - 1)
        if body[i] == body[i + 1]:
            continue
        swapped = body[:i] + body[i + 1] + body[i] + body[i + 2 :]
        total += 1
        try:
            keys.normalise("QB" + swapped)
        except keys.InvalidKey:
            caught += 1
    assert caught / total > 0.9


@pytest.mark.parametrize("text", ["", "QB-", "XX-ABCDE", "QB-" + "U" * 35, "QB-ABC", "x" * 1000])
def test_text_that_is_not_a_key_is_rejected(text):
    with pytest.raises(keys.InvalidKey):
        keys.normalise(text)


def test_the_error_message_never_repeats_the_key():
    key = keys.generate()
    typo = key[:-1] + ("0" if key[-1] != "0" else "1")
    with pytest.raises(keys.InvalidKey) as excinfo:
        keys.normalise(typo)
    assert typo not in str(excinfo.value)
    assert typo[3:8] not in str(excinfo.value)


def test_the_digest_is_an_hmac_that_depends_on_the_pepper(settings):
    key = keys.generate()
    first = keys.digest(key)
    assert len(first) == 64
    assert keys.digest(key.lower()) == first
    settings.LICENSE_KEY_PEPPER = "another pepper"
    assert keys.digest(key) != first


def test_the_encrypted_copy_decrypts_to_the_key_and_does_not_contain_it():
    key = keys.generate()
    token = keys.encrypt(key)
    assert key not in token
    assert keys.decrypt(token) == key


def test_encryption_keys_can_be_rotated(settings):
    from cryptography.fernet import Fernet

    key = keys.generate()
    old = Fernet.generate_key().decode()
    settings.LICENSE_KEY_ENCRYPTION_KEY = old
    token = keys.encrypt(key)
    settings.LICENSE_KEY_ENCRYPTION_KEY = f"{Fernet.generate_key().decode()},{old}"
    assert keys.decrypt(token) == key


def test_mask_and_prefix_show_only_the_first_group():
    key = keys.generate()
    assert keys.public_prefix(key) == key[:8]
    assert keys.mask(key) == f"{key[:8]}-…-{key[-1]}"
