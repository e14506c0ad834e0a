# bash completion for switchman                                    -*- shell-script -*-
#
# switchman completes itself: asked `switchman "[suggest:POSITION]" "LINE"` (System.CommandLine's suggest directive,
# as dotnet-suggest asks), it prints what may come at that point of the line, one per line: commands, options, option
# values. So this file lists none of them and cannot fall behind the program. Installed as
# /usr/share/bash-completion/completions/switchman; elsewhere, `source` it from ~/.bashrc.

_switchman()
{
    local current=${COMP_WORDS[COMP_CWORD]} candidate
    COMPREPLY=()
    # $1 is the program as typed (switchman, ./switchman, /usr/bin/switchman): the one that will run is the one asked.
    while IFS= read -r candidate; do
        # The directive matches anywhere in a word (`-` offers demo-backend) and includes the help aliases /? and /h,
        # which are not Unix syntax: keep the words that begin with what is typed.
        if [[ $candidate == "$current"* && $candidate != /* ]]; then
            COMPREPLY+=("$candidate")
        fi
    done < <("$1" "[suggest:$COMP_POINT]" "$COMP_LINE" 2>/dev/null)
}

# -o default: where switchman suggests nothing (a file after -c), bash completes file names.
complete -o default -F _switchman switchman
