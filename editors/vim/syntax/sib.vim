" Vim syntax file (Vim 8+, Neovim)
" Language: sibdsl outcome contracts (.sib)
" The keyword lists are the grammar's own words (tests/test_lsp_editors.py compares them with
" grammar/sib.lark). With `sibc lsp` running, Neovim 0.9+ also colours names by what they
" declare (semantic tokens), on top of this file.
if exists("b:current_syntax")
  finish
endif

syn case match
syn sync fromstart  " a text in """ quotes may span lines; contracts are small
syn keyword sibDeclaration contract party term periods cohort investment measure define baseline payment gate floor cap return limit guarantee clause table ratecard cover assume parameter waterfall coupon repayment redemption
syn keyword sibOption id version languages currency rounding signed size eligibility better between source description indexed for from to due after end per when requires above at participant in simple compound nondecreasing nonincreasing half up down even year on below drawn committed class times day count during through over all period payments step linear claim declaration order loss the rest until plus least principal full otherwise accrued proportion by
syn keyword sibOperatorWord and or not of if then else
syn keyword sibFunction tiers interpolate min max abs sum previous to_date cumulative
syn keyword sibConstant true false total period_index period_start period_end contract_year

syn match sibNumber "\<\d\{1,3}\%([ _]\d\{3}\)\+\%(\.\d\+\)\=\>"
syn match sibNumber "\<\d\+\%(\.\d\+\)\=\>"
" after the numbers: of two matches at one position, Vim takes the last defined
syn match sibDate "\<\d\{4}-\d\d-\d\d\>"
syn match sibOperator "<=\|>=\|==\|!=\|[-+*/<>=≤≥≠×%]"
syn match sibHeading "§[ \t]*\d\+\%(\.\d\+\)*\l\="
syn match sibLanguageTag "@\l\+"
syn region sibText start=+"""+ end=+"""+ skip=+\\.+
syn region sibText start=+"\%(""\)\@!+ end=+"+ skip=+\\.+ end=+$+ oneline
syn match sibComment "#.*$" contains=@Spell

hi def link sibDeclaration Statement
hi def link sibOption Keyword
hi def link sibOperatorWord Operator
hi def link sibFunction Function
hi def link sibConstant Constant
hi def link sibDate Number
hi def link sibNumber Number
hi def link sibOperator Operator
hi def link sibHeading Title
hi def link sibLanguageTag Special
hi def link sibText String
hi def link sibComment Comment

let b:current_syntax = "sib"
