import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import { MESSAGES } from "./i18n";
import { Answer, settledPart } from "./Markdown";

const render = (text: string, streaming = false) =>
  renderToStaticMarkup(<Answer text={text} streaming={streaming} t={MESSAGES.en} />);

describe("Answer", () => {
  it("renders GitHub-flavoured Markdown", () => {
    const html = render("**bold** `code` ~~old~~\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
    expect(html).toContain("<strong>bold</strong>");
    expect(html).toContain("<code>code</code>");
    expect(html).toContain("<del>old</del>");
    expect(html).toContain("<ul>\n<li>one</li>\n<li>two</li>\n</ul>");
    expect(html).toMatch(/<div class="table-scroll" tabindex="0"><table><thead>.*<th>a<\/th>.*<td>2<\/td>/s);
  });

  it("shows a code block with its language and a copy button, once settled", () => {
    const text = "```ts\nconst a = 1;\n```";
    const html = render(text);
    expect(html).toContain('<span class="code-language">ts</span>');
    expect(html).toContain(
      '<button type="button" class="copy">Copy<span class="sr-only"> code</span></button>',
    );
    expect(html).toContain('<pre tabindex="0"><code class="language-ts">const a = 1;\n</code></pre>');
    expect(render(text, true)).not.toContain("<button");
  });

  it("shows HTML as text", () => {
    const html = render('<img src=x onerror="alert(1)"> <script>alert(2)</script>\n\n<div>block</div>');
    expect(html).not.toMatch(/<(img|script|div>block)/);
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(html).toContain("&lt;script&gt;alert(2)&lt;/script&gt;");
    expect(html).toContain("&lt;div&gt;block&lt;/div&gt;");
  });

  it("opens links in a new tab without this page, and drops unsafe ones", () => {
    expect(render("[papo](https://example.com) and https://example.org")).toContain(
      '<a href="https://example.com" target="_blank" rel="noopener noreferrer">papo</a>',
    );
    expect(render("https://example.org")).toContain(
      '<a href="https://example.org" target="_blank" rel="noopener noreferrer">https://example.org</a>',
    );
    const unsafe = render("[click](javascript:alert(1)) [data](data:text/html,x)");
    expect(unsafe).not.toContain("<a");
    expect(unsafe).not.toContain("javascript:");
    expect(unsafe).toContain("<span>click</span>");
  });

  it("links pictures instead of loading them", () => {
    expect(render("![a cat](https://example.com/cat.png)")).toBe(
      '<p><a href="https://example.com/cat.png" target="_blank" rel="noopener noreferrer">a cat</a></p>',
    );
  });

  it("keeps the page's headings on top", () => {
    expect(render("# Title\n\n### Part")).toBe("<h3>Title</h3>\n<h4>Part</h4>");
  });

  it("renders a streaming answer sanely while incomplete", () => {
    const code = render("Look:\n\n```python\nprint(1)\n", true);
    expect(code).toContain('<pre tabindex="0"><code class="language-python">print(1)\n</code></pre>');
    const table = render("| a | b |\n|---|---|\n| 1 | 2 |\n| 3 |", true);
    expect(table).toContain("<td>1</td><td>2</td>");
    expect(table).not.toContain("3");
  });
});

describe("settledPart", () => {
  it("holds back a table row until its line ends", () => {
    expect(settledPart("| a | b |\n|---|---|\n| 1 | 2")).toBe("| a | b |\n|---|---|\n");
    expect(settledPart("| a | b |\n|---|---|\n| 1 | 2 |\n")).toBe("| a | b |\n|---|---|\n| 1 | 2 |\n");
    expect(settledPart("| a")).toBe("");
    expect(settledPart("Some text, still going")).toBe("Some text, still going");
  });
});
