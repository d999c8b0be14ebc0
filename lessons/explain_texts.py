"""What :mod:`lessons.explain` tells a student, in English and Chinese: the kinds and one table.

Each text is one or two short sentences a 10-year-old can follow, and says
what to do next. The place (line and column) is not in the text: the page
marks it in the editor. ``{name}``-style fields are filled by
:meth:`rcbase.i18n.Text.format`.
"""

from __future__ import annotations

from enum import StrEnum

from rcbase.i18n import Text

__all__ = ["TEXTS", "Kind"]


class Kind(StrEnum):
    """What kind of trouble an :class:`Explanation` is about."""

    SYNTAX = "syntax"
    INDENTATION = "indentation"
    NAME = "name"
    ATTRIBUTE = "attribute"
    ARGUMENTS = "arguments"  # too many, too few or unknown arguments in a call
    TYPE = "type"  # a value of the wrong type
    OUT_OF_RANGE = "out-of-range"
    ZERO_DIVISION = "zero-division"
    IMPORT = "import"
    NO_SCREEN = "no-screen"  # turtle, tkinter: no window can open here
    ROBOT_CLOSED = "robot-closed"
    ENDLESS_LOOP = "endless-loop"  # the wall-clock (or CPU) limit ended it
    TIME_UP = "time-up"  # the lesson's time on the robot's clock was over: not an error
    MEMORY = "memory"
    PROCESSES = "processes"
    ESTOP = "e-stop"  # the teacher's STOP: not the student's doing
    STOPPED = "stopped"  # the student's own Stop (or KeyboardInterrupt)
    CRASH = "crash"  # a signal ended it
    EXIT = "exit"  # sys.exit with an error code
    OTHER = "other"


TEXTS: dict[str, Text] = {
    # -- Python cannot read the program ------------------------------------------
    "syntax": Text(
        "Python can't read this line. Look near the mark for a typo: "
        "a missing bracket, quote, comma or colon?",
        "Python 看不懂这一行。看看标记附近是不是写错了：少了括号、引号、逗号还是冒号？",
    ),
    "colon": Text(
        "This line needs a colon `:` at the end. "
        "Lines that start with if, else, while, for, def or with end with `:`.",
        "这一行的末尾少了冒号 `:`。以 if、else、while、for、def、with 开头的行，最后都要加 `:`。",
    ),
    "elif": Text(
        'In Python, "else if" is one word: `elif`.',
        "在 Python 里，“else if”要写成一个词：`elif`。",
    ),
    "hidden": Text(
        "This line has a hidden special space in it, maybe copied from a web page. "
        "Delete the spaces around the mark and type them again.",
        "这一行里藏着一个特殊的空格，可能是从网页上复制来的。把标记附近的空格删掉，重新输入。",
    ),
    "keyword_case": Text(
        "Python's own words are written in small letters: `{word}`, not `{written}`.",
        "Python 自己的关键词要用小写字母：写 `{word}`，不是 `{written}`。",
    ),
    "comma": Text(
        "Put a comma `,` between the things inside the brackets.",
        "括号里的几样东西之间要用逗号 `,` 隔开。",
    ),
    "never_closed": Text(
        "This `{bracket}` is opened but never closed. Add the matching `{closing}`.",
        "这个 `{bracket}` 打开了，却没有关上。请补上和它配对的 `{closing}`。",
    ),
    "unmatched": Text(
        "This `{bracket}` has no opening bracket to match it. Remove it, or add the opening one.",
        "这个 `{bracket}` 前面没有和它配对的括号。把它删掉，或者补上前面的括号。",
    ),
    "mismatch": Text(
        "A bracket opened with `{opening}` must close with `{closing}`, not `{bracket}`.",
        "用 `{opening}` 打开的括号，要用 `{closing}` 来关，不能用 `{bracket}`。",
    ),
    "equals": Text(
        "To check if two things are equal, use `==` (two equals signs). "
        "One `=` puts a value into a variable.",
        "比较两个东西是不是相等，要用 `==`（两个等号）。一个 `=` 是把值放进变量里。",
    ),
    "string": Text(
        'This text has no quote at its end. Put a `"` after the text too.',
        '这段文字的后面少了引号。在文字的结尾也加上一个 `"`。',
    ),
    "print": Text(
        '`print` needs brackets: write `print("hello")`.',
        '`print` 后面要加括号：写成 `print("hello")`。',
    ),
    "chinese": Text(
        "`{char}` is a Chinese punctuation mark. "
        "Switch your keyboard to English and type `{plain}` instead.",
        "`{char}` 是中文标点。把输入法切换成英文，改成 `{plain}`。",
    ),
    # -- indentation ---------------------------------------------------------------
    "unexpected_indent": Text(
        "This line is pushed further right than the line above it. "
        "Line it up with the lines around it.",
        "这一行比上一行更靠右了。让它和周围的行对齐。",
    ),
    "expected_indent": Text(
        "The line above ends with `:`, so the lines inside it must be pushed right by 4 spaces. "
        "Indent this line.",
        "上一行以 `:` 结尾，它里面的行要往右缩进 4 个空格。请把这一行缩进。",
    ),
    "unindent": Text(
        "This line doesn't line up with any line above it. "
        "Use the same number of spaces as the other lines of its block.",
        "这一行和上面的行都对不齐。用和同一块里其他行一样多的空格。",
    ),
    "tab": Text(
        "This line mixes tabs and spaces at its start. Use only spaces: 4 for each step in.",
        "这一行的开头混用了 Tab 键和空格。只用空格：每缩进一层用 4 个空格。",
    ),
    # -- names and attributes ----------------------------------------------------------
    "name": Text(
        "Python doesn't know the name `{name}`. "
        "Check the spelling, and give it a value before you use it.",
        "Python 不认识 `{name}` 这个名字。检查一下拼写，而且要先给它赋值，再使用它。",
    ),
    "name_mean": Text(
        "Python doesn't know the name `{name}`. Did you mean `{suggestion}`?",
        "Python 不认识 `{name}` 这个名字。你是不是想写 `{suggestion}`？",
    ),
    "name_import": Text(
        "`{name}` has not been imported yet: add `{statement}` at the top of your program.",
        "`{name}` 还没有导入：在程序的最上面加上 `{statement}`。",
    ),
    "unbound": Text(
        "`{name}` is used inside a function before it gets a value there. "
        "Give it a value first, or pass it in between the brackets.",
        "在函数里还没给 `{name}` 赋值，就先用了它。先给它一个值，或者把它放进括号里传进来。",
    ),
    "attribute": Text(
        "`{owner}` has no `{name}`. Check the spelling.",
        "`{owner}` 没有 `{name}`。检查一下拼写。",
    ),
    "attribute_mean": Text(
        "`{owner}` has no `{name}`. Did you mean `{suggestion}`?",
        "`{owner}` 没有 `{name}`。你是不是想写 `{suggestion}`？",
    ),
    "drive": Text(
        "Driving is done by `robot.drive`: write `robot.drive.{name}(...)`.",
        "开动机器人要用 `robot.drive`：写成 `robot.drive.{name}(...)`。",
    ),
    "none_attribute": Text(
        "Something on this line is `None` (empty), so it has no `{name}`. "
        "A function without `return` gives `None`: check where the value came from.",
        "这一行有个东西是 `None`（空的），所以它没有 `{name}`。"
        "没有 `return` 的函数会得到 `None`，看看这个值是从哪里来的。",
    ),
    "closed": Text(
        "The robot is used after its `with Robot() as robot:` block has ended. "
        "Move this line inside the block (indent it).",
        "`with Robot() as robot:` 这一块已经结束了，这一行还在用机器人。"
        "把这一行移到那一块里面（缩进）。",
    ),
    # -- values and arguments -------------------------------------------------------------
    "needs_number": Text(
        "`{what}` needs a number, like 0.5, not {value}. Numbers are written without quotes.",
        "`{what}` 需要一个数字，比如 0.5，而不是 {value}。数字不用加引号。",
    ),
    "out_of_range": Text(
        "`{what}` must be between {low} and {high}, but it got {value}. "
        "Use a number in that range, like {example}.",
        "`{what}` 必须在 {low} 到 {high} 之间，可是这里给了 {value}。换成这个范围里的数，比如 {example}。",
    ),
    "direction": Text(
        "`{what}` can't be below 0 here (it got {value}): the direction is in the name. "
        "To go the other way, use `backward()`, `left()` or `right()` with a number from 0 to 1.",
        "这里的 `{what}` 不能小于 0（这里给了 {value}），方向已经写在名字里了。"
        "想换个方向，就用 `backward()`、`left()` 或 `right()`，数字在 0 到 1 之间。",
    ),
    "missing_args": Text(
        "`{func}()` needs more between its brackets: {missing}.",
        "`{func}()` 的括号里少了东西：{missing}。",
    ),
    "too_many_args": Text(
        "`{func}()` takes at most {most} value{s} between its brackets, but got {given}.",
        "`{func}()` 的括号里最多放 {most} 个值，可是这里放了 {given} 个。",
    ),
    "keyword": Text(
        "`{func}()` has no setting called `{name}`.",
        "`{func}()` 没有叫 `{name}` 的参数。",
    ),
    "keyword_mean": Text(
        "`{func}()` has no setting called `{name}`. Did you mean `{suggestion}`?",
        "`{func}()` 没有叫 `{name}` 的参数。你是不是想写 `{suggestion}`？",
    ),
    "signature": Text("Write it like this: `{signature}`.", "要这样写：`{signature}`。"),
    "text_number": Text(
        "Text and a number can't be joined with `+`. "
        'Turn the number into text first: `str(x)`, or write `f"distance: {{x}}"`.',
        '文字和数字不能直接用 `+` 连起来。先把数字变成文字：`str(x)`，或者写成 `f"距离：{{x}}"`。',
    ),
    "not_callable": Text(
        "A value of type `{type}` is used like a function, with `()` after it. "
        "Remove the brackets, or check that you didn't give a variable a function's name.",
        "这里把一个 `{type}` 类型的值当成函数，在后面加了 `()`。"
        "把括号去掉，或者看看是不是给变量起了和函数一样的名字。",
    ),
    "zero": Text(
        "This line divides by zero, and nothing can be divided by 0. "
        "Check the number after `/`: can it be 0?",
        "这一行除以了 0，可是任何数都不能除以 0。检查一下 `/` 后面的数：它会不会是 0？",
    ),
    "index": Text(
        "A list is asked for an item it doesn't have. "
        "Lists count from 0: a list of 3 things has items 0, 1 and 2.",
        "这里要取列表里没有的那一项。列表从 0 开始数：有 3 个东西的列表只有第 0、1、2 项。",
    ),
    "key": Text(
        "The dictionary has no key {key}. Check the spelling, or add it first.",
        "字典里没有 {key} 这个键。检查一下拼写，或者先把它加进去。",
    ),
    "recursion": Text(
        "A function calls itself again and again and never stops. Give it a way to stop.",
        "有个函数一直在调用自己，停不下来。给它加一个停下来的条件。",
    ),
    # -- modules ---------------------------------------------------------------------
    "import_mean": Text(
        "There is no module called `{name}`. Did you mean `{suggestion}`?",
        "没有叫 `{name}` 的模块。你是不是想写 `{suggestion}`？",
    ),
    "import_missing": Text(
        "The module `{name}` isn't here. "
        "Your program can use `hardware`, `vision`, `time`, `math` and `random`.",
        "这里没有 `{name}` 这个模块。你的程序可以用 `hardware`、`vision`、`time`、`math` 和 `random`。",
    ),
    "no_screen": Text(
        "Your program tried to open a window (turtle or tkinter), but it runs where there is "
        "no screen. Let your robot do the drawing: drive it!",
        "你的程序想打开一个窗口（turtle 或 tkinter），可是它运行的地方没有屏幕。"
        "换个玩法，让机器人开起来“画画”吧！",
    ),
    # -- limits and stops -----------------------------------------------------------------
    "endless_loop_at": Text(
        "Your program ran too long and was stopped: this loop never ends and never waits. "
        "Add `time.sleep(0.05)` inside it, or a `break` to get out.",
        "程序运行得太久，被停下来了：这个循环永远不会结束，也从不等待。"
        "在循环里加上 `time.sleep(0.05)`，或者用 `break` 跳出来。",
    ),
    "busy_loop_at": Text(
        "Your program ran too long and was stopped: this loop checks again and again without "
        "waiting. Put `time.sleep(0.05)` inside it, so the robot has time to move.",
        "程序运行得太久，被停下来了：这个循环一遍又一遍地检查，却从不等待。"
        "在循环里加上 `time.sleep(0.05)`，让机器人有时间动起来。",
    ),
    "endless_loop": Text(
        "Your program ran too long and was stopped. Does a loop never end? "
        "Make every loop wait with `time.sleep(0.05)`, or finish.",
        "程序运行得太久，被停下来了。是不是有个循环停不下来？"
        "让每个循环都用 `time.sleep(0.05)` 等一等，或者能够结束。",
    ),
    "time_up": Text(
        "The lesson's time is over, so your program was stopped. "
        "That's normal for a program that keeps going.",
        "这节课的时间到了，所以程序停了下来。一直运行的程序到时间就会这样停下，这很正常。",
    ),
    "memory": Text(
        "Your program used too much memory and was stopped. "
        "Look for a list that keeps growing inside a loop.",
        "程序用了太多内存，被停下来了。看看有没有在循环里一直变大的列表。",
    ),
    "processes": Text(
        "Your program started too many processes and was stopped. "
        "Robot programs don't need `os.fork` or other programs: take it out.",
        "程序启动了太多进程，被停下来了。机器人程序不需要 `os.fork` 或别的程序，把它去掉吧。",
    ),
    "estop": Text(
        "Your teacher pressed STOP, so every robot stopped. "
        "It's not a mistake in your program: run it again when your teacher says so.",
        "老师按了紧急停止，所有机器人都停了下来。这不是你程序的错，等老师说可以了，再运行一次吧。",
    ),
    "stopped": Text(
        "You pressed Stop, so your program ended. Run it again whenever you're ready.",
        "你按了停止，程序就结束了。准备好了，随时可以再运行。",
    ),
    "crash": Text(
        "Your program stopped suddenly ({signal}). Try it again; if it happens again, "
        "tell your teacher.",
        "程序突然停止了（{signal}）。再运行一次试试；如果还是这样，请告诉老师。",
    ),
    "exit": Text(
        "Your program ended itself with an error code (`sys.exit`). "
        "If you didn't mean to, take the `exit` out.",
        "程序用 `sys.exit` 带着错误码自己结束了。如果你不是故意的，就把 `exit` 去掉。",
    ),
    "other": Text(
        "Python stopped here with {exception}: {message}. "
        "Read the message, check this line, and try again.",
        "Python 在这里停下了，出现了 {exception}：{message}。读一读这句提示，检查这一行，再试一次。",
    ),
}
