/**
 * GitHub-flavoured Markdown (tables, task lists, strikethrough, autolinks,
 * footnotes) for react-markdown's parser.
 *
 * This is remark-gfm without its last line: remark-gfm is made of these same
 * two packages and also registers their Markdown serializers, which a
 * renderer never runs and which weigh 7 KB gzipped, 6% of the page's budget.
 */

import { gfmFromMarkdown } from "mdast-util-gfm";
import { gfm } from "micromark-extension-gfm";

interface ParserData {
  micromarkExtensions?: unknown[];
  fromMarkdownExtensions?: unknown[];
}

/** A unified plugin: `this` is the processor, whose data the parser reads. */
export function gfmParsing(this: { data(): object }): void {
  const data = this.data() as ParserData;
  (data.micromarkExtensions ??= []).push(gfm());
  (data.fromMarkdownExtensions ??= []).push(gfmFromMarkdown());
}
