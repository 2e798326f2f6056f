#include <gtest/gtest.h>

#include <atomic>
#include <mvsp/core/error.hpp>
#include <mvsp/web/resources.hpp>
#include <mvsp/web/templates.hpp>
#include <thread>
#include <vector>

namespace mvsp::web {
namespace {

const core::Resource kTemplates[] = {
    {"templates/page.mustache", "<p>{{name}}</p>{{#items}}<li>{{.}}</li>{{/items}}"},
    {"templates/layout.mustache", "<main>{{> page}}</main>{{> t/footer}}"},
    {"templates/footer.mustache", "<footer>{{t.shell.site_name}}</footer>"},
};

TEST(Templates, EscapeEveryValue) {
  Templates t;
  t.add("t", kTemplates);
  View v;
  v.set("name", "<script>alert('x')</script> & \"quotes\"");
  auto html = t.render("t/page", v);
  EXPECT_EQ(html.find("<script>"), std::string::npos) << html;
  EXPECT_NE(html.find("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; &quot;quotes&quot;"),
            std::string::npos)
      << html;
}

// An empty text is no text: its section stays out and its inverted section shows, so that
// `{{#error}}<p>{{error}}</p>{{/error}}` never leaves an empty paragraph.
TEST(Templates, AnEmptyTextIsFalseInSections) {
  const core::Resource templates[] = {
      {"templates/page.mustache", "[{{#error}}<p>{{error}}</p>{{/error}}{{^error}}ok{{/error}}]"}};
  Templates t;
  t.add("t", templates);
  View v;
  v.set("error", "");
  EXPECT_EQ(t.render("t/page", v), "[ok]");
  v.set("error", "Pflichtfeld");
  EXPECT_EQ(t.render("t/page", v), "[<p>Pflichtfeld</p>]");
}

TEST(Templates, IncludeThePageAndOtherPartials) {
  Templates t;
  t.add("t", kTemplates);
  View v;
  v.set("name", "Anna");
  v.add("items", View().set("x", "unused"));
  View texts;
  texts.set("shell", View().set("site_name", "Serviceportal"));
  v.set("t", texts);
  auto html = t.render("t/layout", v, "t/page");
  EXPECT_EQ(html.substr(0, 19), "<main><p>Anna</p><l");
  EXPECT_NE(html.find("<footer>Serviceportal</footer>"), std::string::npos) << html;
}

TEST(Templates, TextsComeFromTheCatalogOfTheLocale) {
  Templates t;
  t.add("t", kTemplates);
  Catalog texts;
  const core::Resource messages[] = {
      {"messages/de.toml", "[shell]\nsite_name = \"Serviceportal\"\n"},
      {"messages/en.toml", "[shell]\nsite_name = \"Service portal\"\n"},
  };
  texts.add(messages);
  auto footer = [&](std::string_view locale) {
    auto html = t.render("t/layout", View().set("name", "x"), "t/page", &texts, locale);
    return html.substr(html.find("<footer>"));
  };
  EXPECT_EQ(footer("de"), "<footer>Serviceportal</footer>");
  EXPECT_EQ(footer("en"), "<footer>Service portal</footer>");
  EXPECT_EQ(footer("fr"), "<footer>Serviceportal</footer>") << "German for a locale it lacks";
  // A text added later is there in the next render.
  const core::Resource more[] = {{"messages/de.toml", "[shell]\nother = \"Noch einer\"\n"}};
  texts.add(more);
  EXPECT_EQ(footer("de"), "<footer>Serviceportal</footer>");
  const core::Resource uses_more[] = {{"templates/more.mustache", "{{t.shell.other}}"}};
  t.add("t", uses_more);
  EXPECT_EQ(t.render("t/more", View(), {}, &texts, "de"), "Noch einer");
}

// The fourth review: with the model on top of the partials, a model value named "page" (or
// like a template) became template source, rendered unescaped; a model "t" hid the texts.
TEST(Templates, ModelValuesNeverBecomePartialsOrTexts) {
  Templates t;
  t.add("t", kTemplates);
  Catalog texts;
  const core::Resource messages[] = {{"messages/de.toml", "[shell]\nsite_name = \"Portal\"\n"}};
  texts.add(messages);
  View v;
  v.set("name", "Anna");
  v.set("page", "<img src=x onerror=alert(1)>{{name}}");
  v.set("t/footer", "<script>alert(2)</script>");
  v.set("t", View().set("shell", View().set("site_name", "<b>Fake</b>")));
  auto html = t.render("t/layout", v, "t/page", &texts, "de");
  EXPECT_EQ(html.find("<img"), std::string::npos) << html;
  EXPECT_EQ(html.find("<script>"), std::string::npos) << html;
  EXPECT_NE(html.find("<main><p>Anna</p>"), std::string::npos) << html;
  EXPECT_NE(html.find("<footer>Portal</footer>"), std::string::npos) << html;
}

// Each (template, page) pair is parsed once and kept: the kept program must follow the page
// asked for and the templates as they are now.
TEST(Templates, AParsedPageFollowsThePageAndLaterTemplates) {
  Templates t;
  t.add("t", kTemplates);
  const core::Resource other[] = {{"templates/other.mustache", "<p>other {{name}}</p>"}};
  t.add("t", other);
  auto v = View().set("name", "Anna");
  EXPECT_EQ(t.render("t/layout", v, "t/page"), "<main><p>Anna</p></main><footer></footer>");
  EXPECT_EQ(t.render("t/layout", v, "t/other"), "<main><p>other Anna</p></main><footer></footer>");
  EXPECT_EQ(t.render("t/layout", v), "<main></main><footer></footer>") << "no page, nothing";
  const core::Resource footer[] = {{"templates/footer.mustache", "<footer>neu</footer>"}};
  t.add("t", footer);
  EXPECT_EQ(t.render("t/layout", v, "t/page"), "<main><p>Anna</p></main><footer>neu</footer>");
}

TEST(Templates, TemplatesThatIncludeEachOtherAreRefused) {
  Templates t;
  t.add("t", kTemplates);
  const core::Resource loop[] = {{"templates/a.mustache", "a{{> t/b}}"},
                                 {"templates/b.mustache", "b{{>t/a}}"}};
  EXPECT_THROW(t.add("t", loop), core::Failure) << "found when added, not when a page renders";
  EXPECT_FALSE(t.has("t/a"));
  const core::Resource self[] = {{"templates/self.mustache", "{{> page}}"}};
  t.add("t", self);
  EXPECT_THROW(t.render("t/self", View(), "t/self"), core::Failure);
}

// The review of the parsed-once change: a set that fails half-way left the names of its
// first templates without their programs (a render read past the end of a map).
TEST(Templates, ARefusedSetChangesNothing) {
  Templates t;
  t.add("t", kTemplates);
  const core::Resource half[] = {{"templates/fine.mustache", "fine"},
                                 {"templates/page.mustache", "changed"},
                                 {"templates/bad.mustache", "{{#open}}"}};
  EXPECT_THROW(t.add("t", half), core::Failure);
  EXPECT_FALSE(t.has("t/fine"));
  EXPECT_THROW(t.render("t/fine", View()), core::Failure);
  EXPECT_EQ(t.render("t/page", View().set("name", "A")), "<p>A</p>");
}

// Partials are written in tag by tag, as kainjow reads the tags.
TEST(Templates, PartialTagsAreReadAsKainjowReadsThem) {
  Templates t;
  t.add("t", kTemplates);
  const core::Resource more[] = {
      {"templates/spaced.mustache", "[{{ > t/footer }}][{{>\nt/footer}}]"},
      {"templates/comment.mustache", "[{{! not {{> t/footer}}][{{{raw}}}]"}};
  t.add("t", more);
  EXPECT_EQ(t.render("t/spaced", View()), "[<footer></footer>][<footer></footer>]");
  EXPECT_EQ(t.render("t/comment", View().set("raw", "<b>")), "[][<b>]");
  const core::Resource delimiters[] = {{"templates/d.mustache", "{{=<% %>=}}<%> t/footer %>"}};
  EXPECT_THROW(t.add("t", delimiters), core::Failure);
}

TEST(Templates, ConcurrentRendersOfOnePageAgree) {
  Templates t;
  t.add("t", kTemplates);
  auto expected = t.render("t/layout", View().set("name", "0"), "t/page");
  std::atomic<int> wrong = 0;
  std::vector<std::thread> threads;
  for (int n = 0; n < 4; ++n) {
    threads.emplace_back([&, n] {
      for (int i = 0; i < 300; ++i) {
        auto name = std::to_string(n * 1000 + i);
        auto html = t.render("t/layout", View().set("name", name), "t/page");
        if (html != "<main><p>" + name + "</p></main><footer></footer>") ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(expected, "<main><p>0</p></main><footer></footer>");
}

TEST(Templates, BrokenTemplatesAreRefusedWhenAdded) {
  Templates t;
  const core::Resource broken[] = {{"templates/bad.mustache", "{{#open}} never closed"}};
  EXPECT_THROW(t.add("t", broken), core::Failure);
  EXPECT_THROW(t.render("t/none", View()), core::Failure);
}

TEST(Catalog, FallsBackToGermanThenToTheKey) {
  Catalog c;
  const core::Resource texts[] = {
      {"messages/de.toml", "[a]\nonly_de = \"Nur Deutsch\"\nboth = \"Beide\"\n"},
      {"messages/en.toml", "[a]\nboth = \"Both\"\n"},
  };
  c.add(texts);
  EXPECT_EQ(c.text("en", "a.both"), "Both");
  EXPECT_EQ(c.text("en", "a.only_de"), "Nur Deutsch");
  EXPECT_EQ(c.text("de", "a.unknown"), "a.unknown");
  EXPECT_EQ(c.missing("en"), (std::vector<std::string>{"a.only_de"}));
}

TEST(Catalog, TheShippedCatalogsAreComplete) {
  Catalog c;
  c.add(embedded_resources());
  EXPECT_TRUE(c.supports("de"));
  EXPECT_TRUE(c.supports("en"));
  EXPECT_EQ(c.missing("en"), std::vector<std::string>{}) << "English lacks texts German has";
  EXPECT_EQ(c.text("de", "error.404.title"), "Seite nicht gefunden");
}

TEST(Catalog, ShippedTemplatesParse) {
  Templates t;
  EXPECT_NO_THROW(t.add("web", embedded_resources()));
  EXPECT_TRUE(t.has("web/layout"));
  EXPECT_TRUE(t.has("web/error"));
}

}  // namespace
}  // namespace mvsp::web
