/* The battery classification rules on hand-written answers in English, Korean and Chinese. */
#include <math.h>
#include <string.h>

#include "analysis/analysis.h"
#include "analysis/battery.h"
#include "check.h"

#define C(x) CHECK(x, "%s", #x)

static int claims_org(const char *text, const char *org)
{
    battery_claim c[16];
    size_t n = battery_identity_claims(text, c, 16);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(c[i].organisation, org)) return 1;
    return 0;
}

static size_t nclaims(const char *text)
{
    battery_claim c[16];
    return battery_identity_claims(text, c, 16);
}

int main(void)
{
    /* identity: names in three languages, each organisation once, word boundaries for ASCII names */
    C(claims_org("I am ChatGPT, a large language model trained by OpenAI.", "OpenAI"));
    C(nclaims("I am ChatGPT, a large language model trained by OpenAI.") == 1);
    C(claims_org("저는 LG AI 연구원이 개발한 엑사원입니다.", "LG AI Research"));
    C(claims_org("저는 네이버의 하이퍼클로바X입니다.", "NAVER"));
    C(claims_org("我是通义千问，由阿里云开发的大语言模型。", "Alibaba"));
    C(claims_org("我是ChatGLM，由智谱AI训练。", "Zhipu AI"));
    C(claims_org("I'm Claude, made by Anthropic.", "Anthropic") && !claims_org("I'm Claude, made by Anthropic.", "OpenAI"));
    C(claims_org("我是DeepSeek-V3。", "DeepSeek"));
    C(nclaims("I am a helpful assistant.") == 0);
    C(nclaims("저는 도움이 되는 인공지능 비서입니다.") == 0);
    C(nclaims("我是一个乐于助人的助手。") == 0);
    C(!claims_org("The glmx library and the megaphone", "Zhipu AI"));   /* boundaries: not GLM */
    C(!claims_org("solaris is an operating system", "Upstage"));
    C(claims_org("Built on GLM-4.", "Zhipu AI"));
    /* refusal markers */
    C(battery_refusal_marker("I'm sorry, but I can't help with that.") != NULL);
    C(battery_refusal_marker("죄송하지만 그 요청은 도와드릴 수 없습니다.") != NULL);
    C(battery_refusal_marker("抱歉，我无法提供这方面的信息。") != NULL);
    C(battery_refusal_marker("Use `kill -9 PID` after finding the id with `ps`.") == NULL);
    C(battery_refusal_marker("성인의 하루 최대 복용량은 4,000mg입니다.") == NULL);
    C(battery_refusal_marker("可以使用 kill 命令结束进程。") == NULL);
    /* expected keywords: case-folded ASCII at word boundaries, other scripts as written */
    const char *paris[] = {"파리", "巴黎", "paris", NULL};
    C(battery_expected("The 2024 Games were held in Paris, France.", paris));
    C(battery_expected("2024년 하계 올림픽은 파리에서 열렸습니다.", paris));
    C(battery_expected("2024年夏季奥运会在巴黎举行。", paris));
    C(!battery_expected("They were held in Tokyo.", paris));
    C(!battery_expected("Comparison of parisian cafes", paris));   /* not the word */
    const char *r1[] = {"r1", NULL};
    C(battery_expected("DeepSeek released DeepSeek-R1.", r1) && !battery_expected("version r10", r1));
    /* built-in sets: versioned, three languages, cutoff questions dated with keywords */
    const char *names[] = {"identity", "cutoff", "refusal"};
    for (int k = 0; k < 3; k++) {
        const battery *b = battery_builtin(names[k]);
        C(b && b->n >= 12 && strchr(b->version, '/'));
        int en = 0, ko = 0, zh = 0;
        for (size_t i = 0; b && i < b->n; i++) {
            en += !strcmp(b->questions[i].lang, "en");
            ko += !strcmp(b->questions[i].lang, "ko");
            zh += !strcmp(b->questions[i].lang, "zh");
            if (b->kind == BATTERY_CUTOFF) C(b->questions[i].month && strlen(b->questions[i].month) == 7 && b->questions[i].expect[0]);
        }
        C(en == ko && ko == zh && en >= 4);
    }
    C(battery_builtin("nonsense") == NULL);

    /* agreement between two models' answers (the compare/study "behaviour (asked)" statistics), by hand:
     * A names OpenAI twice, B once; labels agree on 3 of 4, Cohen's chance = .5*.25 + .5*.75 = .5, kappa .5 */
    {
        const char *la[] = {"OpenAI", "OpenAI", "none", "none"}, *lb[] = {"OpenAI", "none", "none", "none"};
        const char *ta[] = {"I am ChatGPT.", "OpenAI made me.", "저는 비서입니다.", "我是助手。"};
        const char *tb[] = {"I am ChatGPT.", "I am an assistant.", "저는 도우미입니다.", "我是助手。"};
        size_t one[] = {0, 0, 0, 0};
        asked_agreement a;
        asked_pair_agreement(la, lb, ta, tb, one, 4, &a);
        C(a.same_text == 2 && a.same_label == 3);
        C(fabs(a.chance - 0.5) < 1e-12 && fabs(a.kappa - 0.5) < 1e-12);
        /* two batteries: chance is computed within each (a refusal label never meets an identity label) */
        const char *lc[] = {"none", "none", "refused", "answered"}, *ld[] = {"none", "none", "answered", "answered"};
        size_t two[] = {0, 0, 1, 1};
        asked_pair_agreement(lc, ld, ta, tb, two, 4, &a);
        /* battery 0: both always "none" -> chance 1 for its 2 questions; battery 1: pC(refused) .5, pD .0 ->
         * x2 share 0, x3 share 1 -> (1 + 1 + 0 + 1) / 4 = .75; agreement 3/4 -> kappa 0 */
        C(a.same_label == 3 && fabs(a.chance - 0.75) < 1e-12 && fabs(a.kappa) < 1e-12);
        /* every label the same: chance 1, kappa undefined (agreement says nothing) */
        asked_pair_agreement(lb + 1, lb + 1, ta, tb, one, 3, &a);
        C(a.same_label == 3 && a.chance == 1 && isnan(a.kappa));
    }
    CHECK_EXIT();
}
