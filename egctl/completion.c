/* completion.c — `completion bash|zsh`: a shell completion script for egctl.
 *
 * The script knows the commands (from main.c's table), each command's flags, the object
 * kinds and their aliases (from the kinds this build serves), and asks egctl itself for
 * the names of objects (`egctl get <kind>`) and contexts (`egctl config get-contexts`)
 * when they are wanted, so it follows the server the user's context points at. The zsh
 * script runs the same function through zsh's bashcompinit. */
#define _GNU_SOURCE
#include "egctl.h"

#include <stdio.h>
#include <string.h>

#include "object.h"

static const char *const global_flags = "--server --output -o --help -h --insecure-skip-verify --force-tls";

/* Flags each command takes besides the global ones. */
static const struct {
    const char *cmd, *flags;
} command_flags[] = {
    {"create", "--file -f --port --rule --tls --auto-cert --ca-cert-file --cert-file --key-file "
               "--auto-cert-email --auto-cert-domain-name --dns-provider"},
    {"apply", "--file -f"},
    {"get", "--namespace --all-namespaces"},
    {"describe", "--verbose -v --namespace --all-namespaces"},
    {"delete", "--all"},
    {"logs", "--tail --follow -f"},
    {"object", "--file -f --all"},
};

static void print_kinds(FILE *out)
{
    size_t n;
    const eg_object_kind *k = eg_object_kinds(&n);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, " %s %s", k[i].kind, k[i].plural);
        for (size_t j = 0; j < 4 && k[i].aliases[j]; j++)
            fprintf(out, " %s", k[i].aliases[j]);
    }
    fputs(" member members", out);
}

static void print_bash(FILE *out)
{
    size_t ncmd;
    const char *const *cmds = egctl_command_names(&ncmd);
    fputs("# egctl completion for bash: source <(egctl completion bash)\n"
          "_egctl_words() {\n"
          "    local IFS=$' \\t\\n'\n"
          "    COMPREPLY=($(compgen -W \"$1\" -- \"$2\"))\n"
          "}\n"
          "_egctl() {\n"
          "    local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
          "    local cmd=\"\" sub=\"\" nargs=0 i w server=\"\"\n"
          "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
          "        w=\"${COMP_WORDS[i]}\"\n"
          "        case \"$w\" in\n"
          "        --server) server=\"--server ${COMP_WORDS[i+1]}\"; i=$((i + 1)) ;;\n"
          "        -o|--output|--tail|--port|--rule|--namespace|--ca-cert-file|--cert-file|--key-file|"
          "--auto-cert-email|--auto-cert-domain-name|--dns-provider) i=$((i + 1)) ;;\n"
          "        -f|--file) [[ \"$cmd\" != logs ]] && i=$((i + 1)) ;;\n"
          "        -*) ;;\n"
          "        *) if [[ -z \"$cmd\" ]]; then cmd=\"$w\"; elif [[ -z \"$sub\" ]]; then sub=\"$w\"; "
          "nargs=1; else nargs=$((nargs + 1)); fi ;;\n"
          "        esac\n"
          "    done\n"
          "    case \"$prev\" in\n"
          "    -o|--output) _egctl_words \"default yaml json\" \"$cur\"; return ;;\n"
          "    --server|--tail|--port|--rule|--namespace|--auto-cert-email|--auto-cert-domain-name|"
          "--dns-provider) COMPREPLY=(); return ;;\n"
          "    --ca-cert-file|--cert-file|--key-file) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
          "    -f|--file) if [[ \"$cmd\" != logs ]]; then COMPREPLY=($(compgen -f -- \"$cur\")); "
          "return; fi ;;\n"
          "    esac\n"
          "    if [[ \"$cur\" == -* ]]; then\n"
          "        local flags=\"", out);
    fputs(global_flags, out);
    fputs("\"\n        case \"$cmd\" in\n", out);
    for (size_t i = 0; i < sizeof command_flags / sizeof command_flags[0]; i++)
        fprintf(out, "        %s) flags=\"$flags %s\" ;;\n", command_flags[i].cmd, command_flags[i].flags);
    fputs("        esac\n"
          "        _egctl_words \"$flags\" \"$cur\"\n"
          "        return\n"
          "    fi\n"
          "    if [[ -z \"$cmd\" ]]; then\n"
          "        _egctl_words \"help", out);
    for (size_t i = 0; i < ncmd; i++)
        fprintf(out, " %s", cmds[i]);
    fputs("\" \"$cur\"\n"
          "        return\n"
          "    fi\n"
          "    local kinds=\"", out);
    print_kinds(out);
    fputs("\"\n"
          "    case \"$cmd\" in\n"
          "    get|describe|delete|edit)\n"
          "        if [[ -z \"$sub\" ]]; then\n"
          "            case \"$cmd\" in get|describe) kinds=\"all $kinds\" ;; esac\n"
          "            _egctl_words \"$kinds\" \"$cur\"\n"
          "        elif [[ \"$sub\" != all && ( $nargs -eq 1 || \"$cmd\" == delete ) ]]; then\n"
          "            _egctl_words \"$(egctl $server get \"$sub\" 2>/dev/null | awk -F'\\t' 'NR > 1 && $1 != \"\" {print $1}')\" \"$cur\"\n"
          "        fi ;;\n"
          "    create) [[ -z \"$sub\" ]] && _egctl_words \"httpproxy\" \"$cur\" ;;\n"
          "    logs)\n"
          "        if [[ -z \"$sub\" ]]; then _egctl_words \"get-level set-level\" \"$cur\";\n"
          "        elif [[ \"$sub\" == set-level && $nargs -eq 1 ]]; then _egctl_words \"debug info\" \"$cur\"; fi ;;\n"
          "    config)\n"
          "        if [[ -z \"$sub\" ]]; then _egctl_words \"current-context get-contexts use-context view\" \"$cur\";\n"
          "        elif [[ \"$sub\" == use-context && $nargs -eq 1 ]]; then\n"
          "            _egctl_words \"$(egctl config get-contexts 2>/dev/null | awk 'NR > 1 {print ($1 == \"*\") ? $2 : $1}')\" \"$cur\"\n"
          "        fi ;;\n"
          "    completion) [[ -z \"$sub\" ]] && _egctl_words \"bash zsh\" \"$cur\" ;;\n"
          "    object) [[ -z \"$sub\" ]] && _egctl_words \"create delete get kinds list status update\" \"$cur\" ;;\n"
          "    member) [[ -z \"$sub\" ]] && _egctl_words \"list purge\" \"$cur\" ;;\n"
          "    help) [[ -z \"$sub\" ]] && _egctl_words \"", out);
    for (size_t i = 0; i < ncmd; i++)
        fprintf(out, "%s%s", i ? " " : "", cmds[i]);
    fputs("\" \"$cur\" ;;\n"
          "    esac\n"
          "}\n"
          "complete -o default -F _egctl egctl\n", out);
}

int egctl_cmd_completion(egctl *ctl, int argc, char **argv)
{
    if (argc != 1)
        return egctl_fail(ctl, "accepts 1 arg(s), received %d: egctl completion bash|zsh", argc);
    if (strcmp(argv[0], "bash") == 0) {
        print_bash(stdout);
        return 0;
    }
    if (strcmp(argv[0], "zsh") == 0) {
        fputs("#compdef egctl\n"
              "# egctl completion for zsh: source <(egctl completion zsh), or save it as _egctl\n"
              "# in a directory of $fpath. It runs the bash completion through bashcompinit.\n"
              "autoload -U +X compinit && { (( $+functions[compdef] )) || compinit; }\n"
              "autoload -U +X bashcompinit && bashcompinit\n", stdout);
        print_bash(stdout);
        return 0;
    }
    return egctl_fail(ctl, "unsupported shell \"%s\": egctl completion bash|zsh", argv[0]);
}
