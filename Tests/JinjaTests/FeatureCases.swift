import JSON
import Testing

@testable import Jinja

/// Expected outputs for the feature tests. Each pair is (template, output); the outputs were produced
/// by jinja2 3.1 configured exactly as transformers configures it, and checked in as literals so the
/// tests need no Python. Context: `FeatureCases.context`.
enum FeatureCases {
    static let context: [String: Value] = {
        let json = """
            {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "  Hi there\\n"},
              {"role": "assistant", "content": "Yo", "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": {"a": 1, "b": "x"}}}]}],
             "d": {"b": 1, "a": [1, 2.5, null, true, "é"]}, "n": 7, "f": 2.5, "s": "Hello World", "l": [3, 1, 2], "e": "", "z": null}
            """
        guard case .dict(let d)? = try? Value(json: JSONValue.parse(json)) else { return [:] }
        var out: [String: Value] = [:]
        for (k, v) in d.entries {
            if case .string(let key) = k { out[key] = v }
        }
        return out
    }()

    static let whitespace: [(String, String)] = [
        ("{% if true %}\nyes\n{% endif %}\nafter", "yes\nafter"),
        ("  {% if true %}\n  x\n  {% endif %}\ny", "  x\ny"),
        ("a  {{- ' b ' -}}  c\n d", "a b c\n d"),
        ("{%- if true -%}\n   a   \n{%- endif -%}\n  b", "ab"),
        ("a\n  {# note #}\nb\n  {#- note -#}\n  c", "a\nbc"),
        ("{{ 'x' }}\n{{ 'y' }}\n", "x\ny"),
        ("line\n\n", "line\n"),
        ("{%+ if true %}  kept{% endif +%}\nnext", "  kept\nnext"),
        ("  {{ 'not lstripped' }}\n  {% set q = 1 %}stripped", "  not lstripped\nstripped"),
        ("{% raw %}{{ raw }} {% if %}{% endraw %}", "{{ raw }} {% if %}"),
        ("a {% raw -%}  b  {%- endraw %} c", "a b c"),
        ("{% for i in [1, 2] %}\n  {{ i }}\n{% endfor %}", "  1\n  2\n"),
        ("x {%- for i in [1, 2] -%} {{ i }} {%- endfor -%} y", "x12y"),
    ]
    static let expressions: [(String, String)] = [
        ("{{ 1 + 2 * 3 }}|{{ (1 + 2) * 3 }}|{{ 2 ** 3 ** 2 }}|{{ -2 ** 2 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 7 % -3 }}|{{ -7 % 3 }}|{{ 7 / 2 }}|{{ 10 / 5 }}", "7|9|64|4|3|-4|-2|2|3.5|2.0"),
        ("{{ 1 ~ 2 ~ 'x' ~ none ~ true }}|{{ 'ab' + 'cd' }}|{{ [1] + [2, 3] }}|{{ 'ab' * 3 }}|{{ 2 * [0] }}", "12xNoneTrue|abcd|[1, 2, 3]|ababab|[0, 0]"),
        ("{{ 1 < 2 < 3 }}|{{ 3 > 2 > 2 }}|{{ 1 == 1.0 }}|{{ true == 1 }}|{{ 'a' < 'b' }}|{{ [1, 2] < [1, 3] }}|{{ 1 != 2 }}|{{ 2 >= 2 }}", "True|False|True|True|True|True|True|True"),
        ("{{ true and 'x' }}|{{ false or 0 }}|{{ none or 'd' }}|{{ not 0 }}|{{ not (1 and 0) }}|{{ 'a' if n > 5 else 'b' }}|{{ 'a' if false }}|{{ 1 if false else 2 if false else 3 }}", "x|0|d|True|True|a||3"),
        ("{{ 'b' in 'abc' }}|{{ 'x' not in l }}|{{ 3 in l }}|{{ 'a' in d }}|{{ 'zz' in d }}", "True|True|True|True|False"),
        ("{{ \"it's\" }}|{{ 'say \"hi\"' }}|{{ \"a\" 'b' \"c\" }}|{{ \"\\t|\\x41\\101\\u00e9|\\\\\" }}|{{ 'it\\'s' }}|{{ 1_000 }}|{{ 0x1F }}|{{ 0b101 }}|{{ 0o17 }}|{{ 1e3 }}|{{ 2.5e-3 }}", "it's|say \"hi\"|abc|\t|AAé|\\|it's|1000|31|5|15|1000.0|0.0025"),
        ("{{ [1, 2,][1] }}|{{ {'a': 1,}['a'] }}|{{ (1,) }}|{{ () }}|{{ (1, 2)[0] }}|{{ {'k': {'j': [10, 20]}}.k.j.1 }}", "2|1|(1,)|()|1|20"),
        ("{{ -n }}|{{ +f }}|{{ -n|abs }}|{{ n - 1|abs }}|{{ messages|length - 1 }}", "-7|2.5|7|6|2"),
    ]
    static let printing: [(String, String)] = [
        ("{{ none }}|{{ true }}|{{ false }}|{{ 42 }}|{{ 1.0 }}|{{ 0.1 + 0.2 }}|{{ 1 / 3 }}|{{ 1e16 }}|{{ 1e15 }}|{{ 0.0001 }}|{{ 0.00001 }}|{{ -0.0 }}|{{ 1e300 * 1e300 }}", "None|True|False|42|1.0|0.30000000000000004|0.3333333333333333|1e+16|1000000000000000.0|0.0001|1e-05|-0.0|inf"),
        ("{{ [1, 'a', none, true, 1.5, {'k': [1]}, ('t',), (1, 2)] }}", "[1, 'a', None, True, 1.5, {'k': [1]}, ('t',), (1, 2)]"),
        ("{{ [\"it's\", 'a\"b', 'both\\'\"', 'nl\\n', 'tab\\t', 'bell\\x07', 'é😀'] }}", "[\"it's\", 'a\"b', 'both\\'\"', 'nl\\n', 'tab\\t', 'bell\\x07', 'é😀']"),
        ("{{ d }}|{{ l }}|{{ x }}|{{ [x] }}|{{ namespace(a=1) }}", "{'b': 1, 'a': [1, 2.5, None, True, 'é']}|[3, 1, 2]||[Undefined]|<Namespace {'a': 1}>"),
    ]
    static let slicing: [(String, String)] = [
        ("{{ s[::-1] }}|{{ s[1:3] }}|{{ s[-3:] }}|{{ s[:-3] }}|{{ s[::3] }}|{{ s[100:] }}|{{ s[-100:2] }}|{{ s[0] }}|{{ s[-1] }}|{{ s[99] }}", "dlroW olleH|el|rld|Hello Wo|HlWl||He|H|d|"),
        ("{{ l[::2] }}|{{ l[::-1] }}|{{ l[::-2] }}|{{ l[1:-1] }}|{{ l[-1] }}|{{ l[5] }}|{{ l[1:1] }}|{{ l[none:2] }}|{{ messages[1:] | length }}|{{ messages[-1].role }}", "[3, 2]|[2, 1, 3]|[2, 3]|[1]|2||[]|[3, 1]|2|assistant"),
    ]
    static let control: [(String, String)] = [
        ("{% for x in l %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}<{{ loop.previtem }}|{{ loop.nextitem }}>{{ loop.cycle('a', 'b') }};{% endfor %}", "1032TrueFalse3<|1>a;2121FalseFalse3<3|2>b;3210FalseTrue3<1|>a;"),
        ("{% for x in [] %}x{% else %}empty{% endfor %}|{% for i in range(6) if i is odd %}{{ i }}/{{ loop.index }}/{{ loop.length }} {% endfor %}", "empty|1/1/3 3/2/3 5/3/3 "),
        ("{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}", "0134"),
        ("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{% for k in d %}{{ k }}{% endfor %}|{% for c in 'abc' %}{{ c }}-{% endfor %}", "b=1;a=[1, 2.5, None, True, 'é'];|ba|a-b-c-"),
        ("{% if n > 10 %}big{% elif n > 5 %}mid{% else %}small{% endif %}|{% if e %}e{% elif z %}z{% endif %}|{% if x %}{% else %}nox{% endif %}", "mid||nox"),
        ("{% for a in [[1, [2, 3]], [4]] recursive %}<{{ loop.depth }}{% if a is iterable %}{{ loop(a) }}{% else %}{{ a }}{% endif %}>{% endfor %}", "<1<21><2<32><33>>><1<24>>"),
        ("{% for i in [1, 2] %}{% for j in 'ab' %}{{ i }}{{ j }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}", "1a1 1b2 1|2a1 2b2 2|"),
    ]
    static let assignment: [(String, String)] = [
        ("{% set x = 1 %}{% if true %}{% set x = 2 %}{% endif %}{{ x }}{% for i in [1] %}{% set x = 3 %}{{ x }}{% endfor %}{{ x }}", "232"),
        ("{% for i in [1, 2, 3] %}{% if loop.first %}{% set y = 'set' %}{% endif %}[{{ y }}]{% endfor %}[{{ y }}]", "[set][][][]"),
        ("{% set ns = namespace(found=false, n=0) %}{% for m in messages %}{% if m.role == 'assistant' %}{% set ns.found = true %}{% endif %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.found }} {{ ns.n }} {{ ns }}", "True 3 <Namespace {'found': True, 'n': 3}>"),
        ("{% set a, b = [1, 2] %}{{ a }}{{ b }}{% set c, d2 = 'xy' %}{{ c }}{{ d2 }}{% set (p, q), r = [[1, 2], 3] %}{{ p }}{{ q }}{{ r }}", "12xy123"),
        ("{% set block %}\n  text {{ n }}\n{% endset %}[{{ block }}]|{% set up | upper | trim %}  shout {% endset %}[{{ up }}]", "[  text 7\n]|[SHOUT]"),
        ("{% with a = 1, b = 'two' %}{{ a }}{{ b }}{% endwith %}[{{ a }}]", "1two[]"),
        ("{% set messages = messages[1:] %}{{ messages | length }}|{% set l = l + [4] %}{{ l }}", "2|[3, 1, 2, 4]"),
    ]
    static let macros: [(String, String)] = [
        ("{% macro greet(name, punct='!') -%}Hello {{ name }}{{ punct }}{%- endmacro %}{{ greet('a') }} {{ greet('b', '?') }} {{ greet(punct='.', name='c') }} {{ greet() }}|", "Hello a! Hello b? Hello c. Hello !|"),
        ("{% macro m(a) %}{{ a }}|{{ varargs }}|{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, k=4) }}|{{ m }}", "1|(2, 3)|{'k': 4}|<Macro 'm'>"),
        ("{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}inner {{ n }}{% endcall %}", "<b>inner 7</b>"),
        ("{% macro m(a) %}{{ caller(a, 2) }}{% endmacro %}{% call(x, y) m(1) %}[{{ x }}{{ y }}]{% endcall %}", "[12]"),
        ("{% macro f() %}{{ top }}{% endmacro %}{% set top = 5 %}{{ f() }}{% for top in [9] %}{{ f() }}{% endfor %}", "55"),
        ("{% macro fact(k) %}{% if k <= 1 %}1{% else %}{{ k }}*{{ fact(k - 1) }}{% endif %}{% endmacro %}{{ fact(4) }}", "4*3*2*1"),
        ("{% macro d1(a, b=a + 1) %}{{ a }},{{ b }}{% endmacro %}{{ d1(1) }}|{{ d1(1, 5) }}", "1,2|1,5"),
    ]
    static let filters: [(String, String)] = [
        ("{{ '  x  '|trim }}|{{ 'xxhixx'|trim('x') }}|{{ s|length }}|{{ d|count }}|{{ x|length }}|{{ s|list|first }}|{{ l|first }}|{{ l|last }}|{{ []|first }}|{{ 'ab'|last }}", "x|hi|11|2|0|H|3|2||b"),
        ("{{ l|join('-') }}|{{ l|join }}|{{ messages|map(attribute='role')|join(', ') }}|{{ [{'a': 'x'}, {'a': 'y'}]|join(',', attribute='a') }}", "3-1-2|312|system, user, assistant|x,y"),
        ("{{ x|default('dflt') }}|{{ e|default('dflt') }}|{{ e|default('dflt', true) }}|{{ z|default('dflt') }}|{{ x|d('D') }}|{{ 0|d('zero', boolean=true) }}", "dflt||dflt|None|D|zero"),
        ("{{ s|upper }}|{{ s|lower }}|{{ 'hello wORLD-foo (bar)'|title }}|{{ 'hELLO world'|capitalize }}|{{ s|replace('l', 'L') }}|{{ s|replace('l', 'L', 2) }}|{{ 'ab'|replace('', '.') }}", "HELLO WORLD|hello world|Hello World-Foo (Bar)|Hello world|HeLLo WorLd|HeLLo World|.a.b."),
        ("{{ messages|selectattr('role', 'equalto', 'user')|map(attribute='content')|list }}|{{ messages|rejectattr('role', 'equalto', 'user')|map(attribute='role')|list }}", "['  Hi there\\n']|['system', 'assistant']"),
        ("{{ messages|selectattr('tool_calls')|list|length }}|{{ messages|selectattr('tool_calls', 'defined')|list|length }}|{{ messages|rejectattr('tool_calls', 'undefined')|list|length }}", "1|1|1"),
        ("{{ [0, 1, 2, '', none, 'a']|select|list }}|{{ [1, 2, 3, 4]|reject('odd')|list }}|{{ [1, 5, 3]|select('gt', 2)|list }}|{{ [1, 2, 3]|select('in', [1, 3])|list }}", "[1, 2, 'a']|[2, 4]|[5, 3]|[1, 3]"),
        ("{{ l|map('string')|join }}|{{ ['a', 'B']|map('upper')|list }}|{{ [' a ']|map('trim')|first }}|{{ [[1, 2], [3]]|map('length')|list }}|{{ [{'a': {'b': 1}}]|map(attribute='a.b')|list }}|{{ [{'a': 1}, {}]|map(attribute='a', default=0)|list }}", "312|['A', 'B']|a|[2, 1]|[1]|[1, 0]"),
        ("{{ d|items|list }}|{{ d|dictsort }}|{{ {'b': 1, 'A': 2, 'a': 0}|dictsort }}|{{ {'b': 1, 'a': 2}|dictsort(by='value', reverse=true) }}", "[('b', 1), ('a', [1, 2.5, None, True, 'é'])]|[('a', [1, 2.5, None, True, 'é']), ('b', 1)]|[('A', 2), ('a', 0), ('b', 1)]|[('a', 2), ('b', 1)]"),
        ("{{ n|string }}|{{ f|int }}|{{ '12'|int + 1 }}|{{ ' 3.9 '|int }}|{{ 'x'|int(5) }}|{{ '0x1F'|int(base=16) }}|{{ n|float }}|{{ '3.5'|float }}|{{ 'x'|float }}|{{ -3|abs }}|{{ -2.5|abs }}", "7|2|13|3|5|31|7.0|3.5|0.0|3|2.5"),
        ("{{ f|round }}|{{ 3.5|round }}|{{ 3.14159|round(2) }}|{{ 2.675|round(2) }}|{{ 7|round }}|{{ 1234.5|round(-2) }}|{{ 2.1|round(0, 'ceil') }}|{{ 2.9|round(0, 'floor') }}", "2.0|4.0|3.14|2.67|7|1200.0|3.0|2.0"),
        ("{{ [3, 1, 2]|sort }}|{{ [3, 1, 2]|sort(reverse=true) }}|{{ ['b', 'A', 'a', 'B']|sort }}|{{ ['b', 'A', 'a', 'B']|sort(case_sensitive=true) }}|{{ [{'n': 2}, {'n': 1}]|sort(attribute='n') }}", "[1, 2, 3]|[3, 2, 1]|['A', 'a', 'b', 'B']|['A', 'B', 'a', 'b']|[{'n': 1}, {'n': 2}]"),
        ("{{ [1, 2, 2, 3, 1]|unique|list }}|{{ ['a', 'A', 'b']|unique|list }}|{{ l|reverse|list }}|{{ s|reverse }}|{{ l|sum }}|{{ [{'v': 2}, {'v': 3}]|sum(attribute='v') }}|{{ l|min }}|{{ l|max }}|{{ ['b', 'A', 'c']|max }}|{{ []|max }}", "[1, 2, 3]|['a', 'b']|[2, 1, 3]|dlroW olleH|6|5|1|3|c|"),
        ("{{ [1, 2, 3, 4, 5]|batch(2)|list }}|{{ [1, 2, 3]|batch(2, 'x')|list }}|{{ [1, 2, 3, 4, 5]|slice(2)|list }}|{{ l|list }}|{{ 'ab'|list }}|{{ d|list }}", "[[1, 2], [3, 4], [5]]|[[1, 2], [3, 'x']]|[[1, 2, 3], [4, 5]]|[3, 1, 2]|['a', 'b']|['b', 'a']"),
        ("{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}|{{ 'a\\nb'|indent('> ') }}", "a\n    b\n\n    c|  a\n  b|a\n  \n  b|a\n> b"),
        ("{{ s|wordcount }}|{{ 'one, two_three 4'|wordcount }}|{{ 'ab'|center(7) }}|{{ 'abc'|center(8) }}|{{ 'hello world foo'|truncate(11) }}|{{ 'hello world foo bar baz'|truncate(11) }}|{{ 'hello world foo bar'|truncate(9, true) }}|{{ 'hello world'|truncate(8, false, '..', 0) }}", "2|3|   ab  |  abc   |hello world foo|hello...|hello ...|hello.."),
        ("{{ '<p>Hi &amp; <b>bye</b></p>  <!-- c -->x'|striptags }}|{{ '<a href=\"x\">&\\'</a>'|e }}|{{ '<b>'|escape }}|{{ '<b>'|safe }}|{{ 'abc'|attr('upper')() }}|{{ d|attr('a') }}|{{ '%s-%03d'|format('a', 7) }}|{{ '%(k)s'|format(k='v') }}", "Hi & bye x|&lt;a href=&#34;x&#34;&gt;&amp;&#39;&lt;/a&gt;|&lt;b&gt;|<b>|ABC||a-007|v"),
    ]
    static let tests: [(String, String)] = [
        ("{{ x is defined }}{{ n is defined }}{{ x is undefined }}{{ z is none }}{{ z is not none }}{{ n is odd }}{{ n is even }}{{ n is divisibleby 7 }}{{ 9 is divisibleby(3) }}", "FalseTrueTrueTrueFalseTrueFalseTrueTrue"),
        ("{{ s is string }}{{ n is string }}{{ d is mapping }}{{ l is mapping }}{{ l is iterable }}{{ s is iterable }}{{ n is iterable }}{{ l is sequence }}{{ n is sequence }}", "TrueFalseTrueFalseTrueTrueFalseTrueFalse"),
        ("{{ n is number }}{{ f is number }}{{ true is number }}{{ n is integer }}{{ true is integer }}{{ f is float }}{{ n is float }}{{ true is boolean }}{{ 1 is boolean }}{{ true is true }}{{ 1 is true }}{{ false is false }}", "TrueTrueTrueTrueFalseTrueFalseTrueFalseTrueFalseTrue"),
        ("{{ 'abc' is lower }}{{ 'aBc' is lower }}{{ 'ABC' is upper }}{{ n is eq 7 }}{{ n is equalto 7 }}{{ n is ne 7 }}{{ n is lt 8 }}{{ n is le 7 }}{{ n is gt 7 }}{{ n is ge 7 }}{{ n is in [7, 8] }}{{ n is sameas 7 }}", "TrueFalseTrueTrueTrueFalseTrueTrueFalseTrueTrueTrue"),
        ("{{ raise_exception is callable }}{{ s.upper is callable }}{{ n is callable }}{{ 'upper' is filter }}{{ 'nope' is filter }}{{ 'odd' is test }}{{ 'a' is in 'cat' }}", "TrueTrueFalseTrueFalseTrueTrue"),
    ]
    static let methods: [(String, String)] = [
        ("{{ s.startswith('Hell') }}|{{ s.endswith(('x', 'ld')) }}|{{ s.startswith('World', 6) }}|{{ s.upper() }}|{{ s.lower() }}|{{ \"they're bill's\".title() }}|{{ 'hELLO'.capitalize() }}|{{ 'Hello'.swapcase() }}", "True|True|True|HELLO WORLD|hello world|They'Re Bill'S|Hello|hELLO"),
        ("{{ '  x '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '  x '.lstrip() }}|{{ '  x '.rstrip() }}|{{ 'a\\n\\n'.rstrip('\\n') }}|{{ '\\n\\nb'.lstrip('\\n') }}", "x|hi|x |  x|a|b"),
        ("{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'a-b-c'.rsplit('-', 1) }}|{{ 'x</think>y'.split('</think>')[-1] }}|{{ 'a\\nb\\r\\nc'.splitlines() }}", "['a', 'b', '', 'c']|['a', 'b']|['a', 'b c']|['a-b', 'c']|y|['a', 'b', 'c']"),
        ("{{ s.find('o') }}|{{ s.rfind('o') }}|{{ s.find('z') }}|{{ s.index('W') }}|{{ s.count('l') }}|{{ s.replace('o', '0') }}|{{ '-'.join(['a', 'b']) }}|{{ ', '.join(l|map('string')) }}", "4|7|-1|6|3|Hell0 W0rld|a-b|3, 1, 2"),
        ("{{ '123'.isdigit() }}|{{ 'abc'.isalpha() }}|{{ 'a1'.isalnum() }}|{{ '  '.isspace() }}|{{ 'abc'.islower() }}|{{ 'ABC'.isupper() }}|{{ 'Ab Cd'.istitle() }}", "True|True|True|True|True|True|True"),
        ("{{ s.partition(' ') }}|{{ 'ab'.ljust(4, '*') }}|{{ 'ab'.rjust(4) }}|{{ '7'.zfill(3) }}|{{ 'x'.center(5, '-') }}|{{ 'abc'.removeprefix('a') }}|{{ 'abc'.removesuffix('c') }}", "('Hello', ' ', 'World')|ab**|  ab|007|--x--|bc|ab"),
        ("{{ '{} and {}'.format('a', 1) }}|{{ '{0}{1}{0}'.format('x', 'y') }}|{{ '{name}!'.format(name='z') }}|{{ '{:>6}|{:<4}|{:^5}|{:06.2f}|{:+d}|{:,}|{:x}|{:.1%}'.format('a', 'b', 'c', 3.14159, 5, 1234567, 255, 0.256) }}", "a and 1|xyx|z!|     a|b   |  c  |003.14|+5|1,234,567|ff|25.6%"),
        ("{{ '%s and %d and %.2f' % ('a', 3, 2.5) }}|{{ '%05.1f|%-4s|%x|%5s|%%' % (3.14159, 'ab', 255, 'r') }}|{{ '%(a)s=%(b)d' % {'a': 'k', 'b': 2} }}|{{ '%s' % none }}|{{ '%r' % 'q' }}", "a and 3 and 2.50|003.1|ab  |ff|    r|%|k=2|None|'q'"),
        ("{{ d.get('b') }}|{{ d.get('q') }}|{{ d.get('q', 'dflt') }}|{{ d.keys()|list }}|{{ d.values()|list|length }}|{{ d.items()|list|first }}|{{ messages[0].get('role') }}", "1|None|dflt|['b', 'a']|2|('b', 1)|system"),
    ]
    static let tojson: [(String, String)] = [
        ("{{ d|tojson }}|{{ l|tojson }}|{{ 'é😀\"<>&\\n\\t'|tojson }}|{{ [1.0, 1e20, 1e-7, -0.0, 3]|tojson }}|{{ (1, 'a')|tojson }}|{{ none|tojson }}|{{ true|tojson }}", "{\"b\": 1, \"a\": [1, 2.5, null, true, \"é\"]}|[3, 1, 2]|\"é😀\\\"<>&\\n\\t\"|[1.0, 1e+20, 1e-07, -0.0, 3]|[1, \"a\"]|null|true"),
        ("{{ d|tojson(indent=2) }}", "{\n  \"b\": 1,\n  \"a\": [\n    1,\n    2.5,\n    null,\n    true,\n    \"é\"\n  ]\n}"),
        ("{{ {'b': 1, 'a': {'d': 2, 'c': []}}|tojson(indent=4, sort_keys=true) }}", "{\n    \"a\": {\n        \"c\": [],\n        \"d\": 2\n    },\n    \"b\": 1\n}"),
        ("{{ d|tojson(separators=(',', ':')) }}|{{ {'a': 'é'}|tojson(ensure_ascii=true) }}|{{ {1: 'a', none: 1, true: 2, 1.5: 3}|tojson }}|{{ [{}, []]|tojson(indent=2) }}", "{\"b\":1,\"a\":[1,2.5,null,true,\"é\"]}|{\"a\": \"\\u00e9\"}|{\"1\": 2, \"null\": 1, \"1.5\": 3}|[\n  {},\n  []\n]"),
        ("{{ messages[2].tool_calls[0].function.arguments|tojson }}|{{ messages[2]|tojson }}", "{\"a\": 1, \"b\": \"x\"}|{\"role\": \"assistant\", \"content\": \"Yo\", \"tool_calls\": [{\"id\": \"c1\", \"function\": {\"name\": \"f\", \"arguments\": {\"a\": 1, \"b\": \"x\"}}}]}"),
    ]
}
