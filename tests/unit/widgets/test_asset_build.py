"""Assets are built once from their sources: a changed file gets a new URL, an unchanged one keeps it."""

from widgets.assets import Assets, source_root


def make_root(tmp_path, widget_js):
    (tmp_path / "static" / "vendor").mkdir(parents=True)
    (tmp_path / "embed.js").write_text("/*! licence */\nvar  answer = 42;\n")
    (tmp_path / "static" / "widget.js").write_text(widget_js)
    (tmp_path / "static" / "vendor" / "lib.min.js").write_text("var  kept=1 ;")
    return tmp_path


def test_a_changed_file_gets_a_new_fingerprinted_url_and_an_unchanged_one_keeps_its_own(tmp_path):
    before = Assets(make_root(tmp_path / "a", "var x = 1;\n"))
    after = Assets(make_root(tmp_path / "b", "var x = 2;\n"))
    same = Assets(make_root(tmp_path / "c", "var x = 1;   // only a comment differs\n"))
    assert before.urls["widget.js"] != after.urls["widget.js"]
    assert same.urls["widget.js"] == before.urls["widget.js"]  # the hash is of what is served, minified
    assert before.urls["vendor/lib.min.js"] == after.urls["vendor/lib.min.js"]
    assert before.urls["widget.js"].startswith("widget.") and before.urls["widget.js"].endswith(".js")


def test_scripts_are_minified_keeping_licence_comments_and_upstream_minified_files_are_left_alone(tmp_path):
    assets = Assets(make_root(tmp_path, "var x = 1;\n"))
    assert assets.embed_js.body == b"/*! licence */var answer=42;"
    lib, _ = assets.static["vendor/lib.min.js"]
    assert lib.body == b"var  kept=1 ;"


def test_the_checkout_is_the_source_when_the_package_carries_no_copy():
    assert (source_root() / "embed.js").is_file() and (source_root() / "static" / "widget.js").is_file()
