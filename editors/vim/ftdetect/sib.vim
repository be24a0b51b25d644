" sibdsl outcome contracts
autocmd BufRead,BufNewFile *.sib setfiletype sib
