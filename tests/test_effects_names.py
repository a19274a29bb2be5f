from hypothesis import given
from hypothesis import strategies as st

from automation.record.names import normalise_customer_name

ALPHABET = st.sampled_from(list("华为科技北京深圳ABCabc123ＡＢＣ１２３ 　()（）·-,，.。") + ["有限公司", "集团"])


def test_fullwidth_spaces_and_suffixes_give_one_name():
    variants = ["北京华为科技有限公司", "北京 华为科技 有限责任公司", "北京华为科技股份有限公司",
                "北京华为科技公司", "北京华为科技集团有限公司", "北京华为科技（集团）"]
    assert {normalise_customer_name(v) for v in variants} == {"北京华为科技"}


def test_latin_letters_fold_to_lower_case_half_width():
    assert normalise_customer_name("ＡＢＣ Trading 有限公司") == "abctrading"


def test_a_bare_suffix_is_still_a_name():
    assert normalise_customer_name("公司") == "公司"
    assert normalise_customer_name(None) == ""


def test_different_customers_stay_different():
    assert normalise_customer_name("上海远东有限公司") != normalise_customer_name("上海远洋有限公司")


@given(st.lists(ALPHABET, max_size=12).map("".join))
def test_normalising_twice_changes_nothing(name):
    once = normalise_customer_name(name)
    assert normalise_customer_name(once) == once


@given(st.lists(ALPHABET, min_size=1, max_size=12).map("".join))
def test_spaces_and_full_width_never_matter(name):
    spaced = " ".join(name).replace("A", "Ａ")
    assert normalise_customer_name(spaced) == normalise_customer_name(name)
